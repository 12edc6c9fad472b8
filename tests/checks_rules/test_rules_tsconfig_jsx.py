"""tsconfig-jsx: effective compilerOptions (extends resolved) against the .tsx files included."""

from __future__ import annotations

import json

import pytest

from checks.registry import get_rule
from checks.repository import Repository
from checks.rules.tsconfig_jsx import ID, SEVERITY, Options, add_jsx, fix

from .conftest import MakeRepo, audit_rule, tracked_files, where

APP = "export const App = () => <main />;\n"
APP_CONFIG = """\
{
  // the dashboard
  "extends": "./tsconfig.base.json",
  "compilerOptions": {
    "lib": ["ES2022", "DOM"], // browser globals
    "strict": true,
  },
  "include": ["src/**/*.ts", "src/**/*.tsx"],
}
"""
BASE = '{ "compilerOptions": { "target": "ES2022" } }\n'


def test_tsx_included_without_jsx_is_reported_at_compiler_options(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"tsconfig.app.json": APP_CONFIG, "tsconfig.base.json": BASE, "src/App.tsx": APP}
    )

    findings = audit_rule(root, "tsconfig-jsx")

    assert where(findings) == [("tsconfig.app.json", 4)]
    assert "src/App.tsx" in findings[0].message
    assert '"jsx"' in findings[0].message


def test_jsx_set_in_a_relative_base_is_enough(make_repo: MakeRepo) -> None:
    base = '{ "compilerOptions": { "jsx": "react-jsx" } }\n'
    root = make_repo(
        {"tsconfig.app.json": APP_CONFIG, "tsconfig.base.json": base, "src/App.tsx": APP}
    )

    assert audit_rule(root, "tsconfig-jsx") == []


def test_extends_resolves_packages_in_node_modules(make_repo: MakeRepo) -> None:
    config = '{ "extends": "@acme/tsconfig/react", "include": ["src"] }\n'
    root = make_repo(
        {
            "web/tsconfig.json": config,
            "web/src/App.tsx": APP,
            "node_modules/@acme/tsconfig/react.json": '{"compilerOptions": {"jsx": "preserve"}}',
        }
    )
    assert audit_rule(root, "tsconfig-jsx") == []

    (root / "node_modules/@acme/tsconfig/react.json").write_text('{ "compilerOptions": {} }')
    assert where(audit_rule(root, "tsconfig-jsx")) == [("web/tsconfig.json", 1)]


def test_package_extends_through_the_tsconfig_field(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "tsconfig.json": '{ "extends": "@acme/base" }\n',
            "src/App.tsx": APP,
            "node_modules/@acme/base/package.json": '{"name": "@acme/base","tsconfig": "cfg.json"}',
            "node_modules/@acme/base/cfg.json": '{ "compilerOptions": { "jsx": "react" } }',
        }
    )

    assert audit_rule(root, "tsconfig-jsx") == []


def test_configs_that_include_no_tsx_are_fine(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "tsconfig.json": '{"files": [], "references": [{"path": "./tsconfig.worker.json"}]}',
            "tsconfig.worker.json": '{ "include": ["worker/**/*.ts"] }',
            "tsconfig.excl.json": '{ "include": ["src"], "exclude": ["src/legacy"] }',
            "worker/index.ts": "export {};\n",
            "src/legacy/Old.tsx": APP,
            "src/new.ts": "export {};\n",
        }
    )

    assert audit_rule(root, "tsconfig-jsx") == []


def test_a_base_that_others_extend_is_not_a_project(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "tsconfig.base.json": BASE,
            "web/tsconfig.json": (
                '{"extends": "../tsconfig.base.json", "compilerOptions": {"jsx": "react-jsx"}}'
            ),
            "web/App.tsx": APP,
        }
    )

    assert audit_rule(root, "tsconfig-jsx") == []


def test_an_unresolvable_base_is_not_guessed_about(make_repo: MakeRepo) -> None:
    root = make_repo({"tsconfig.json": '{ "extends": "@missing/config" }', "App.tsx": APP})

    assert audit_rule(root, "tsconfig-jsx") == []


def test_fix_adds_jsx_and_keeps_comments_and_formatting(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"tsconfig.app.json": APP_CONFIG, "tsconfig.base.json": BASE, "src/App.tsx": APP}
    )
    [finding] = audit_rule(root, "tsconfig-jsx")
    rule = get_rule("tsconfig-jsx")
    assert rule is not None
    assert rule.fix is not None
    files = tracked_files(root)

    changed = rule.fix(Repository(root, files, files), finding, Options())

    assert changed
    text = (root / "tsconfig.app.json").read_text()
    assert text == APP_CONFIG.replace(
        '"compilerOptions": {\n', '"compilerOptions": {\n    "jsx": "react-jsx",\n'
    )
    assert audit_rule(root, "tsconfig-jsx") == []


def test_fix_handles_inline_empty_and_absent_compiler_options() -> None:
    inline = add_jsx('{ "compilerOptions": { "strict": true } }', "react-jsx")
    empty = add_jsx('{\n  "compilerOptions": {}\n}\n', "react-jsx")
    absent = add_jsx('{\n  "include": ["src"]\n}\n', "react-jsx")

    for text in (inline, empty, absent):
        assert json.loads(text)["compilerOptions"]["jsx"] == "react-jsx"
    assert inline == '{ "compilerOptions": { "jsx": "react-jsx", "strict": true } }'
    assert absent.startswith('{\n  "compilerOptions": { "jsx": "react-jsx" },\n  "include"')


def test_fix_refuses_to_write_what_it_cannot_read_back(make_repo: MakeRepo) -> None:
    root = make_repo({"tsconfig.json": '{ "include": ["src"] ', "src/App.tsx": APP})
    files = tracked_files(root)
    finding = Repository(root, files, files).finding(ID, SEVERITY, "tsconfig.json", 1, "no jsx")

    assert fix(Repository(root, files, files), finding, Options()) is False
    assert (root / "tsconfig.json").read_text() == '{ "include": ["src"] '


def test_include_dot_means_the_configs_own_directory(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "a/tsconfig.json": '{ "include": ["."] }',
            "a/App.tsx": APP,
            "b/tsconfig.json": '{ "include": ["./"] }',
            "b/src/App.tsx": APP,
            "c/tsconfig.json": '{ "include": ["./src/"], "exclude": ["./src/legacy/."] }',
            "c/src/legacy/Old.tsx": APP,
            "d/tsconfig.json": '{ "include": ["../shared"] }',
            "shared/Button.tsx": APP,
            "e/tsconfig.json": '{ "include": ["**/*"] }',
            "f/tsconfig.json": '{ "files": ["./src/../App.tsx"] }',
            "f/App.tsx": APP,
        }
    )

    findings = audit_rule(root, "tsconfig-jsx")

    assert where(findings) == [
        ("a/tsconfig.json", 1),
        ("b/tsconfig.json", 1),
        ("d/tsconfig.json", 1),
        ("f/tsconfig.json", 1),
    ]
    assert "(shared/Button.tsx)" in findings[2].message


@pytest.mark.parametrize(
    "config",
    [
        '{ "include": "src" }',
        '{ "include": [".", 3] }',
        '{ "files": "App.tsx" }',
        '{ "exclude": {} }',
        '{ "compilerOptions": "react-jsx" }',
        '{ "compilerOptions": [] }',
        '{ "extends": 3 }',
        '{ "extends": ["./base.json", null] }',
        '{ "extends": "@acme/broken" }',
        '["compilerOptions"]',
        "[" * 3000 + "]" * 3000,
        "{ " + '"a": ' * 3000 + "1" + " }" * 3000,
    ],
)
def test_configs_of_a_shape_the_compiler_refuses_are_left_alone(
    make_repo: MakeRepo, config: str
) -> None:
    root = make_repo(
        {
            "tsconfig.json": config,
            "base.json": "{}",
            "node_modules/@acme/broken/package.json": '["tsconfig"]',
            "App.tsx": APP,
        }
    )

    assert audit_rule(root, "tsconfig-jsx") == []


def test_null_settings_count_as_absent(make_repo: MakeRepo) -> None:
    root = make_repo({"tsconfig.json": '{ "include": null, "extends": null }', "App.tsx": APP})

    assert where(audit_rule(root, "tsconfig-jsx")) == [("tsconfig.json", 1)]


def test_fix_refuses_a_compiler_options_that_is_not_an_object(make_repo: MakeRepo) -> None:
    texts = ['{ "compilerOptions": "x", "include": ["src"] }', '{ "compilerOptions": [] }', "[]"]
    for text in texts:
        root = make_repo({"tsconfig.json": text, "src/App.tsx": APP})
        files = tracked_files(root)
        repo = Repository(root, files, files)
        finding = repo.finding(ID, SEVERITY, "tsconfig.json", 1, "no jsx")

        assert fix(repo, finding, Options()) is False
        assert (root / "tsconfig.json").read_text() == text
