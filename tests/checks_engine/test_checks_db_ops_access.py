"""db-ops-access: every listed form is found at the binding's name; decoys never are."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.api import audit
from checks_engine.conftest import MakeRepo


def found(root: Path) -> list[tuple[str, int, int]]:
    result = audit(root, select=["db-ops-access"])
    return [(f.path, f.line, f.column) for f in result.findings]


@pytest.mark.parametrize(
    ("path", "source", "line", "column"),
    [
        ("apps/a/worker/index.ts", "const r = env.DB_OPS.prepare('x');\n", 1, 15),
        ("apps/a/worker/db.ts", "class D { q() { return this.env.DB_OPS; } }\n", 1, 33),
        ("apps/a/worker/hono.ts", "app.get('/', (c) => c.env.DB_OPS.exec('1'));\n", 1, 27),
        ("apps/a/worker/opt.ts", "const d = env?.DB_OPS;\n", 1, 16),
        ("apps/a/worker/elem.ts", 'const d = env["DB_OPS"];\n', 1, 16),
        ("apps/a/worker/tmpl.js", "const d = env[`DB_OPS`];\n", 1, 15),
        ("apps/a/worker/destr.ts", "const { DB_OPS } = env;\n", 1, 9),
        ("apps/a/worker/rename.tsx", "const { DB_OPS: ops } = env;\n", 1, 9),
        ("apps/a/worker/param.mjs", "export function f({ DB_OPS }) { return 1; }\n", 1, 21),
        ("apps/a/worker/default.cjs", "function f({ DB_OPS = null } = {}) {}\n", 1, 14),
        ("apps/a/worker/pass.ts", "const db = drizzle(\n  env\n    .DB_OPS,\n);\n", 3, 6),
        ("apps/a/src/worker.py", "x = self.env.DB_OPS\n", 1, 14),
        ("apps/a/src/attr.py", 'db = getattr(env, "DB_OPS")\n', 1, 19),
    ],
)
def test_each_form_of_direct_use_is_reported_at_the_binding(
    make_repo: MakeRepo, path: str, source: str, line: int, column: int
) -> None:
    root = make_repo({path: source})

    assert found(root) == [(path, line, column)]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("apps/a/worker/comment.ts", "// env.DB_OPS is not used here\n/* env.DB_OPS */\n"),
        ("apps/a/worker/string.ts", "const name = 'env.DB_OPS';\nconst t = `DB_OPS`;\n"),
        ("apps/a/worker/longer.ts", "const d = env.DB_OPS_BACKUP;\nconst { DB_OPS_X } = env;\n"),
        ("apps/a/worker/types.ts", "interface Env { DB_OPS: D1Database }\n"),
        (
            "apps/a/worker/other.ts",
            "const d = env[name];\nconst e = env.ORCHESTRATOR_OPS_MONITOR;\n",
        ),
        ("apps/a/src/worker.py", '# self.env.DB_OPS\nNAME = "DB_OPS"\nx = env.DB_OPS_BACKUP\n'),
        ("orchestrator/worker/index.ts", "const r = env.DB_OPS.prepare('x');\n"),
        ("orchestrator/wrangler.toml", '[[d1_databases]]\nbinding = "DB_OPS"\n'),
        ("node_modules/pkg/index.js", "module.exports = (env) => env.DB_OPS;\n"),
        ("apps/a/.wrangler/tmp/bundle.js", "this.env.DB_OPS;\n"),
        ("apps/a/venv/lib/site.py", "env.DB_OPS\n"),
        ("apps/a/README.md", "Use env.DB_OPS? No.\n"),
    ],
)
def test_decoys_are_never_reported(make_repo: MakeRepo, path: str, source: str) -> None:
    root = make_repo({path: source})

    assert found(root) == []


def test_wrangler_toml_binding_outside_the_owner_is_reported_at_its_line(
    make_repo: MakeRepo,
) -> None:
    toml = (
        'name = "app"\n# binding = "DB_OPS" in a comment\n[[d1_databases]]\n'
        'binding = "DB_OPS"\ndatabase_name = "ops"\n\n[env.staging]\n'
        '[[env.staging.d1_databases]]\nbinding = "DB_OPS"\n'
    )
    root = make_repo({"apps/a/wrangler.toml": toml})

    assert found(root) == [("apps/a/wrangler.toml", 4, 12), ("apps/a/wrangler.toml", 9, 12)]


def test_wrangler_jsonc_with_comments_and_trailing_commas(make_repo: MakeRepo) -> None:
    jsonc = (
        '{\n  // "binding": "DB_OPS" was removed\n  "d1_databases": [\n'
        '    { "binding": "DB_APP" },\n    { "binding": "DB_OPS", },\n  ],\n}\n'
    )
    root = make_repo({"apps/a/wrangler.jsonc": jsonc, "apps/b/wrangler.json": '{"name": "b"}'})

    assert found(root) == [("apps/a/wrangler.jsonc", 5, 19)]


def test_an_unparsable_wrangler_file_is_not_a_binding_use(make_repo: MakeRepo) -> None:
    root = make_repo({"apps/a/wrangler.toml": "[[d1_databases]\nbinding = 'DB_OPS'\n"})

    assert found(root) == []


def test_options_change_the_bindings_the_owners_and_the_replacement(make_repo: MakeRepo) -> None:
    config = (
        "[tool.readiness.checks.rules.db-ops-access]\n"
        'bindings = ["DB_AUDIT"]\nowner_paths = ["services/audit/**"]\n'
        'replacement = "AUDIT_SERVICE"\n'
    )
    root = make_repo(
        {
            "pyproject.toml": config,
            "services/audit/index.ts": "env.DB_AUDIT;\n",
            "apps/a/index.ts": "env.DB_AUDIT;\nenv.DB_OPS;\n",
        }
    )

    result = audit(root, select=["db-ops-access"])

    assert [(f.path, f.line) for f in result.findings] == [("apps/a/index.ts", 1)]
    assert "AUDIT_SERVICE" in result.findings[0].message


def test_python_findings_name_the_python_client(make_repo: MakeRepo) -> None:
    root = make_repo({"apps/a/main.py": "async def f(self):\n    return self.env.DB_OPS\n"})

    (finding,) = audit(root, select=["db-ops-access"]).findings

    assert "OpsMonitorClient" in finding.message
    assert finding.snippet == "return self.env.DB_OPS"
