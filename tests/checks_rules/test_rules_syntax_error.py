"""syntax-error: tree-sitter finds candidates, the TypeScript parser or CPython confirms them."""

from __future__ import annotations

from pathlib import Path

from checks.rules._syntax_gaps import gap_name
from checks.rules._typescript_parser import find_typescript
from checks.rules.syntax_error import Options, describe, first_error
from checks.source import SourceFile

from .conftest import MakeRepo, audit_rule, needs_node, where

BROKEN_IF = """\
export default {
  async scheduled(event: ScheduledEvent, env: Env, ctx: ExecutionContext): Promise<void> {
    if
      ctx.waitUntil(run(env, 'full'));
      return;
    }
    if (event.cron === '0 */4 * * *') {
      ctx.waitUntil(run(env, 'incremental'));
    }
  },
};
"""

# Valid TypeScript that tree-sitter-typescript rejects (variance annotations, `export type *`).
VALID_BUT_MISREAD = """\
export interface Box<out A> {
  readonly value: A;
}
export interface Sink<in A> {
  push(value: A): void;
}
"""
VALID_REEXPORT = 'export type * from "./types";\n'

NO_NODE = Options(node="")


@needs_node
def test_broken_if_is_reported_at_the_if_with_the_compiler_message(make_repo: MakeRepo) -> None:
    root = make_repo({"worker/index.ts": BROKEN_IF, "worker/ok.ts": "export const a = 1;\n"})

    findings = audit_rule(root, "syntax-error")

    assert where(findings) == [("worker/index.ts", 3)]
    assert findings[0].message == "does not parse: '(' expected."
    assert findings[0].column == 5


@needs_node
def test_valid_code_the_grammar_misreads_is_not_reported(make_repo: MakeRepo) -> None:
    root = make_repo({"src/box.ts": VALID_BUT_MISREAD, "src/index.d.ts": VALID_REEXPORT})

    assert audit_rule(root, "syntax-error") == []


def test_known_gaps_cover_the_misread_code_without_node(make_repo: MakeRepo) -> None:
    root = make_repo({"src/box.ts": VALID_BUT_MISREAD, "src/index.d.ts": VALID_REEXPORT})

    assert audit_rule(root, "syntax-error", NO_NODE) == []


def test_real_errors_are_still_reported_without_node(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "worker/index.ts": BROKEN_IF,
            "web/App.tsx": "export const App = () => <div><span>hi</div>;\n",
            "lib/util.js": "function add(a, b {\n  return a + b;\n}\n",
        }
    )

    findings = audit_rule(root, "syntax-error", NO_NODE)

    assert [path for path, _line in where(findings)] == [
        "lib/util.js",
        "web/App.tsx",
        "worker/index.ts",
    ]
    assert all(f.message.startswith("does not parse: ") for f in findings)
    assert ("worker/index.ts", 3) in where(findings)


@needs_node
def test_tsx_and_javascript_errors_are_confirmed(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "web/App.tsx": "export const App = () => <div><span>hi</div>;\n",
            "web/ok.tsx": "export const Ok = <T,>(x: T) => <p>{String(x)}</p>;\n",
            "lib/util.mjs": "export function add(a, b {\n  return a + b;\n}\n",
            "lib/ok.cjs": "module.exports = { ok: true };\n",
        }
    )

    findings = audit_rule(root, "syntax-error")

    assert [path for path, _line in where(findings)] == ["lib/util.mjs", "web/App.tsx"]
    assert "expected" in findings[0].message


def test_python_errors_are_reported_at_cpython_position(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "worker.py": "def handler(event):\n    if event.cron == '0 2 * * *'\n        run()\n",
            "legacy.py": 'print "hello"\n',
            "ok.py": "import json\n\n\ndef f(x: int) -> str:\n    return json.dumps(x)\n",
        }
    )

    findings = audit_rule(root, "syntax-error")

    assert where(findings) == [("legacy.py", 1), ("worker.py", 2)]
    assert "expected ':'" in findings[1].message


def test_clean_files_are_never_parsed_twice_for_nothing(make_repo: MakeRepo) -> None:
    root = make_repo({"a.ts": "export const x: number = 1;\n", "b.py": "x = 1\n"})

    assert audit_rule(root, "syntax-error") == []


def test_first_error_is_the_innermost_broken_token() -> None:
    file = SourceFile.from_text("index.ts", BROKEN_IF)
    assert file.tree is not None

    error = first_error(file.tree.root_node)

    assert error is not None
    assert file.position(error) == (3, 5)
    assert describe(file, error) == "unexpected `if`"


def test_missing_tokens_are_described_by_what_is_missing() -> None:
    file = SourceFile.from_text("a.ts", "const f = (a: number => a;\n")
    assert file.tree is not None
    error = first_error(file.tree.root_node)
    assert error is not None

    assert describe(file, error).startswith(("missing", "unexpected"))


def test_gap_patterns_name_the_construct() -> None:
    assert gap_name("export interface Box<out A> {") == "variance annotation"
    assert gap_name('export type * from "./types";') == "export type *"
    assert gap_name("export { _null as null };") == "keyword as export name"
    assert gap_name("if (x) {") is None


def test_an_explicit_typescript_location_that_is_not_one_is_ignored(tmp_path: Path) -> None:
    assert find_typescript(tmp_path, str(tmp_path / "nowhere"), install=False) is None


@needs_node
def test_explicit_option_pointing_nowhere_falls_back_to_known_gaps(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    root = make_repo({"src/box.ts": VALID_BUT_MISREAD, "worker/index.ts": BROKEN_IF})
    options = Options(typescript=str(tmp_path / "nowhere"), install_typescript=False)

    assert where(audit_rule(root, "syntax-error", options)) == [("worker/index.ts", 3)]


ACCESSORS = """\
export abstract class Store {
  abstract accessor size: number;
  static accessor #count = 1;
  public static accessor label = 'x';
  protected abstract accessor limit?: number;
  override accessor name = '';
  static accessor ['key'] = 1;
}
"""


def test_accessor_fields_with_modifiers_are_known_gaps(make_repo: MakeRepo) -> None:
    root = make_repo({"src/store.ts": ACCESSORS})

    assert audit_rule(root, "syntax-error", NO_NODE) == []


def test_a_broken_accessor_is_still_reported(make_repo: MakeRepo) -> None:
    broken = "export class Store {\n  static accessor size count = 1;\n}\n"
    root = make_repo({"src/store.ts": broken})

    assert where(audit_rule(root, "syntax-error", NO_NODE)) == [("src/store.ts", 2)]


def test_accessor_gap_pattern() -> None:
    assert gap_name("  abstract accessor x: number;") == "modified accessor field"
    assert gap_name("  static accessor #y = 1;") == "modified accessor field"
    assert gap_name("  static accessor x y = 1;") is None
    assert gap_name("  accessor = 1;") is None
