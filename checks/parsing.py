"""Which tree-sitter grammar reads which file, and one parser per grammar per process.

Grammars are imported on first use so a run that parses nothing (a warm cache) never pays for them.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tree_sitter import Language, Parser, Tree

LanguageName = Literal["typescript", "tsx", "javascript", "python"]

SUFFIX_LANGUAGES: dict[str, LanguageName] = {
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".py": "python",
    ".pyi": "python",
}


def language_for(path: str) -> LanguageName | None:
    """The grammar for a path, by suffix; None for files no grammar reads (JSON, TOML, ...)."""
    dot = path.rfind(".")
    if dot < 0:
        return None
    return SUFFIX_LANGUAGES.get(path[dot:].lower())


@cache
def grammar_for(language: LanguageName) -> Language:
    """The tree-sitter `Language` (rules build their `Query` objects from it)."""
    from tree_sitter import Language

    if language == "typescript":
        import tree_sitter_typescript

        grammar = tree_sitter_typescript.language_typescript()
    elif language == "tsx":
        import tree_sitter_typescript

        grammar = tree_sitter_typescript.language_tsx()
    elif language == "javascript":
        import tree_sitter_javascript

        grammar = tree_sitter_javascript.language()
    else:
        import tree_sitter_python

        grammar = tree_sitter_python.language()
    return Language(grammar)


@cache
def parser_for(language: LanguageName) -> Parser:
    from tree_sitter import Parser

    return Parser(grammar_for(language))


def parse(language: LanguageName, source: bytes) -> Tree:
    return parser_for(language).parse(source)
