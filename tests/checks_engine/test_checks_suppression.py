"""Inline suppressions, baselines and --diff-base: adopting the audit on a dirty repository."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from checks import baseline
from checks.api import audit
from checks.cli_support import UserError
from checks_engine.conftest import MakeRepo, commit_all, write_files


def found(root: Path, **options: object) -> list[tuple[str, str, int]]:
    result = audit(root, **options)  # type: ignore[arg-type]
    return [(f.rule, f.path, f.line) for f in result.findings]


def test_an_ignore_with_a_reason_suppresses_on_its_line_and_the_next(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "apps/a/index.ts": (
                "env.DB_OPS; // readiness: ignore[db-ops-access] migration script, removed in Q3\n"
                "// readiness: ignore[db-ops-access] read-only health probe\n"
                "env.DB_OPS;\n"
                "env.DB_OPS;\n"
            ),
            "apps/a/tool.py": "x = env.DB_OPS  # readiness: ignore[db-ops-access] one-off\n",
        }
    )

    result = audit(root, select=["db-ops-access"])

    assert [(f.path, f.line) for f in result.findings] == [("apps/a/index.ts", 4)]
    assert result.summary["suppressed"] == 3


def test_an_ignore_without_a_reason_does_not_suppress_and_is_reported(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({"apps/a/index.ts": "env.DB_OPS; // readiness: ignore[db-ops-access]\n"})

    assert found(root, select=["db-ops-access"]) == [
        ("db-ops-access", "apps/a/index.ts", 1),
        ("ignore-without-reason", "apps/a/index.ts", 1),
    ]


def test_an_ignore_that_matches_nothing_is_reported(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "apps/a/index.ts": "// readiness: ignore[db-ops-access] it was here\nconst a = 1;\n",
            "apps/a/other.ts": "// readiness: ignore[syntax-error] not run below\n",
        }
    )

    assert found(root, select=["db-ops-access"]) == [("unused-ignore", "apps/a/index.ts", 1)]


def test_ignore_text_in_strings_and_docs_is_not_a_suppression(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "apps/a/doc.py": 'HELP = "x  # readiness: ignore[db-ops-access] reason"\n',
            "apps/a/doc.ts": "const help = '// readiness: ignore[db-ops-access] reason';\n",
            "apps/a/conf.toml": "# readiness: ignore[db-ops-access] stale\n",
        }
    )

    assert found(root, select=["db-ops-access"]) == [("unused-ignore", "apps/a/conf.toml", 1)]


def test_a_baseline_reports_only_new_findings_even_after_lines_move(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    root = make_repo({"apps/a/index.ts": "env.DB_OPS;\n", "apps/b/index.ts": "const a = 1;\n"})
    recorded = tmp_path / "baseline.json"
    baseline.write(recorded, audit(root).findings)

    write_files(
        root,
        {
            "apps/a/index.ts": "// a header\n\n  env.DB_OPS;\nenv.DB_OPS;\n",
            "apps/b/index.ts": "const a = env.DB_OPS;\n",
        },
    )
    result = audit(root, baseline=recorded)

    assert [(f.path, f.line) for f in result.findings] == [
        ("apps/a/index.ts", 4),
        ("apps/b/index.ts", 1),
    ]
    assert result.summary["baselined"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"version": 9}', "not a readiness baseline"),
        ('{"version": 1, "findings": [{}]}', "missing 'fingerprint'"),
    ],
)
def test_a_bad_baseline_is_a_usage_error(
    make_repo: MakeRepo, tmp_path: Path, content: str, message: str
) -> None:
    root = make_repo({"apps/a/index.ts": "env.DB_OPS;\n"})
    bad = tmp_path / "baseline.json"
    bad.write_text(content, encoding="utf-8")

    with pytest.raises(UserError, match=message):
        audit(root, baseline=bad)
    with pytest.raises(UserError, match="cannot read baseline"):
        audit(root, baseline=tmp_path / "absent.json")


def test_diff_base_keeps_findings_on_changed_lines_and_new_files(make_repo: MakeRepo) -> None:
    root = make_repo({"apps/a/index.ts": "env.DB_OPS;\nconst a = 1;\n", "apps/b/x.ts": "1;\n"})
    base = git.Repo(root).head.commit.hexsha
    write_files(root, {"apps/a/index.ts": "env.DB_OPS;\nconst a = env.DB_OPS;\n"})
    commit_all(root)
    write_files(root, {"apps/c/new.ts": "env.DB_OPS;\n"})

    result = audit(root, diff_base=base, select=["db-ops-access"])

    assert [(f.path, f.line) for f in result.findings] == [
        ("apps/a/index.ts", 2),
        ("apps/c/new.ts", 1),
    ]
    assert result.summary["outside_diff"] == 1


def test_diff_base_in_a_subdirectory_of_the_repository(make_repo: MakeRepo) -> None:
    root = make_repo({"mono/apps/a/index.ts": "const a = 1;\n"})
    base = git.Repo(root).head.commit.hexsha
    write_files(root, {"mono/apps/a/index.ts": "const a = 1;\nenv.DB_OPS;\n"})

    result = audit(root / "mono", diff_base=base, select=["db-ops-access"])

    assert [(f.path, f.line) for f in result.findings] == [("apps/a/index.ts", 2)]


def test_diff_base_reads_paths_that_git_quotes(make_repo: MakeRepo) -> None:
    names = ["apps/a/with space.ts", "apps/a/café.ts", 'apps/a/q"uote.ts']
    root = make_repo({**dict.fromkeys(names, "const a = 1;\n"), "apps/a/gone.ts": "1;\n"})
    base = git.Repo(root).head.commit.hexsha
    write_files(root, dict.fromkeys(names, "const a = 1;\nenv.DB_OPS;\n"))
    write_files(root, {"apps/b/new file é.ts": "env.DB_OPS;\n"})
    (root / "apps/a/gone.ts").unlink()

    result = audit(root, diff_base=base, select=["db-ops-access"], use_cache=False)

    found = sorted((f.path, f.line) for f in result.findings)
    assert found == sorted([*((name, 2) for name in names), ("apps/b/new file é.ts", 1)])
    assert result.summary["outside_diff"] == 0


def test_diff_base_errors_name_the_problem(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"apps/a/index.ts": "env.DB_OPS;\n"})
    plain = tmp_path / "plain"
    plain.mkdir()

    with pytest.raises(UserError, match="unknown git ref 'no-such-ref'"):
        audit(root, diff_base="no-such-ref")
    with pytest.raises(UserError, match="not inside a git repository"):
        audit(plain, diff_base="HEAD", use_cache=False)


def test_written_baseline_is_readable_json(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"apps/a/index.ts": "env.DB_OPS;\n"})
    target = tmp_path / "sub" / "baseline.json"

    baseline.write(target, audit(root).findings)

    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["version"] == 1
    assert [r["rule"] for r in document["findings"]] == ["db-ops-access"]


def test_prose_that_explains_suppressions_is_not_one(make_repo: MakeRepo) -> None:
    root = make_repo({"README.md": "Add `// readiness: ignore[db-ops-access] why` above it.\n"})

    assert found(root, select=["db-ops-access"]) == []


def test_consecutive_lines_each_with_their_own_ignore(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "apps/a/index.ts": (
                "const a = env.DB_OPS; // readiness: ignore[db-ops-access] migration one\n"
                "const b = env.DB_OPS; // readiness: ignore[db-ops-access] migration two\n"
            ),
            "apps/a/tool.py": (
                "a = env.DB_OPS  # readiness: ignore[db-ops-access] one\n"
                "b = env.DB_OPS  # readiness: ignore[db-ops-access] two\n"
            ),
        }
    )

    result = audit(root, select=["db-ops-access"])

    assert result.findings == []
    assert result.summary["suppressed"] == 4


def test_an_ignore_after_code_covers_only_its_own_line(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "apps/a/index.ts": (
                "const a = 1; // readiness: ignore[db-ops-access] meant for the line below\n"
                "const b = env.DB_OPS;\n"
                "// readiness: ignore[db-ops-access] superseded by the one on the line itself\n"
                "const c = env.DB_OPS; // readiness: ignore[db-ops-access] migration\n"
            )
        }
    )

    assert found(root, select=["db-ops-access"]) == [
        ("unused-ignore", "apps/a/index.ts", 1),
        ("db-ops-access", "apps/a/index.ts", 2),
        ("unused-ignore", "apps/a/index.ts", 3),
    ]


def test_an_ignore_naming_an_unknown_rule_is_reported_even_when_not_selected(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(
        {"apps/a/index.ts": "// readiness: ignore[db-ops-acess] migration\nenv.DB_OPS;\n"}
    )

    full = audit(root, select=["db-ops-access"])
    other = audit(root, select=["syntax-error"])

    assert [(f.rule, f.line) for f in full.findings] == [("unused-ignore", 1), ("db-ops-access", 2)]
    assert "ignore[db-ops-acess] names no rule (did you mean db-ops-access?)" in str(
        full.findings[0].message
    )
    assert [(f.rule, f.line) for f in other.findings] == [("unused-ignore", 1)]


@pytest.mark.parametrize(
    "directive",
    ["readiness:ignore[db-ops-access] why", "readiness:  ignore[db-ops-access] why"],
)
def test_the_space_after_the_colon_is_optional(make_repo: MakeRepo, directive: str) -> None:
    root = make_repo({"apps/a/index.ts": f"env.DB_OPS; // {directive}\n"})

    result = audit(root, select=["db-ops-access"])

    assert result.findings == []
    assert result.summary["suppressed"] == 1
