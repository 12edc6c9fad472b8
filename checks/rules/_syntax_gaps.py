"""Constructs the tree-sitter grammars misread: the fallback when no TypeScript parser can run.

Each pattern is valid TypeScript that tree-sitter-typescript rejects, found by running the rule over
the published sources of popular npm packages (see `benchmarks/syntax_precision.py`). An error is
treated as a gap when the line it is on, or the line before, holds one of these constructs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from checks.source import SourceFile

if TYPE_CHECKING:
    from tree_sitter import Node

KNOWN_GAPS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # variance annotations on type parameters: `interface Box<out A>`, `<in out K, in V>`
    (
        "variance annotation",
        re.compile(r"(?:^\s*|[<,(]\s*)(?:in\s+out|in|out)\s+[A-Za-z_$][\w$]*(?:\s|[,>=]|$)"),
    ),
    # `import("./x").T` type queries, in declaration files emitted by tsc
    ("import type query", re.compile(r"\bimport\(\s*[\"'][^\"']+[\"']\s*\)\s*\.")),
    # `export type * from "./types"` (TypeScript 5.0)
    ("export type *", re.compile(r"\bexport\s+type\s+\*")),
    # keywords as exported names: `export { _null as null }`, `catch_ as catch`
    (
        "keyword as export name",
        re.compile(
            r"\bas\s+(?:null|catch|default|delete|new|in|void|true|false|try|while|do|for|if|switch|return|throw|typeof|instanceof|with|yield|this|super|class|function|var|const|let|enum|import|export|extends|break|continue|debugger|finally)\s*[,}]"
        ),
    ),
    # anonymous default function declarations in .d.ts files
    ("anonymous default function", re.compile(r"\bexport\s+default\s+function\s*\(")),
    # `const` type parameters and type parameters on overloads: `<const I>`, `<A, E, R>(`
    ("const type parameter", re.compile(r"<\s*const\s+[A-Za-z_$]")),
    # mapped types over `keyof` with modifiers
    ("mapped type", re.compile(r"\[\s*[A-Za-z_$][\w$]*\s+in\s+keyof\b")),
    # `using` as an ordinary identifier or method name
    ("using as a name", re.compile(r"\busing\s*[(:]")),
    # constructor types with type parameters: `new <A>(args: A) => T`
    ("generic constructor type", re.compile(r"\bnew\s*<")),
    # template literal types with escaped backticks or nested templates
    ("template literal type", re.compile(r"=\s*`[^`]*\\`")),
    # type arguments on tagged templates: sql<Row>`...`
    ("tagged template type arguments", re.compile(r"[\w$]+<[^`]*>`")),
    # generic call signatures in object types: `<A, E>(self: X): Y`
    ("generic call signature", re.compile(r"^\s*<[\w\s,=.<>\[\]|&{}:;?\"']*>\s*\(")),
    # call signatures returning function types in interfaces: `(n: number): <A>(a: A) => B`
    ("call signature", re.compile(r"^\s*(?:\)|(?:<[^>]*>\s*)?\(.*\))\s*(?::|=>)")),
    # type arguments closing an object type before a template: sql<{ id: string }>`...`
    ("tagged template object type", re.compile(r"^\s*\}>`")),
    # the same, continued: `}): <R>(self: X) => Y`, `>(cases: C): (self: S) => T`
    ("call signature continued", re.compile(r"^\s*(?:\}\)|>\()")),
    # generic signatures whose constraints hold function types: `<A extends (...a: any) => any>(`
    ("generic signature", re.compile(r"^\s*<.*>\(")),
    # a lone `<` opening a multi-line type parameter list
    ("multi-line type parameters", re.compile(r"^\s*<\s*$")),
    # auto-accessor fields after another modifier (TypeScript 4.9): `static accessor #y = 1`,
    # `abstract accessor x: number`, `public static accessor [key] = 1`
    (
        "modified accessor field",
        re.compile(
            r"\b(?:abstract|static|override|public|private|protected)\s+accessor\s+"
            r"(?:#?[A-Za-z_$][\w$]*\s*[?!]?\s*(?:[:=;]|$)|\[|[\"'])"
        ),
    ),
)


def gap_name(line: str) -> str | None:
    """The known gap a source line shows, or None."""
    return next((name for name, pattern in KNOWN_GAPS if pattern.search(line)), None)


def is_known_gap(file: SourceFile, error: Node) -> bool:
    """Does the error fall on a construct the grammar is known to misread?"""
    line, _column = file.position(error)
    return any(gap_name(file.line_text(number)) for number in (line, line - 1) if number > 0)
