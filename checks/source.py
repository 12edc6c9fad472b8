"""A file as the rules see it: its text, its language and (only if a rule asks) its syntax tree.

Every rule of a run shares one `SourceFile` per file: a file is read once and parsed at most once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from checks.model import Finding, Severity
from checks.parsing import LanguageName, language_for, parse

if TYPE_CHECKING:
    from tree_sitter import Node, Tree


class SourceFile:
    """One discovered file. `path` is POSIX, relative to the scanned root."""

    def __init__(self, path: str, absolute: Path, data: bytes, text: str) -> None:
        self.path = path
        self.absolute = absolute
        self.data = data
        self.text = text
        self.language: LanguageName | None = language_for(path)

    @classmethod
    def from_text(cls, path: str, text: str, root: Path | None = None) -> SourceFile:
        """A file built from text (the fixer and rules that re-read config use it)."""
        base = root if root is not None else Path()
        return cls(path, base / path, text.encode("utf-8"), text)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @cached_property
    def tree(self) -> Tree | None:
        """The tree-sitter tree, parsed on first access; None when no grammar reads this file."""
        if self.language is None:
            return None
        return parse(self.language, self.data)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def mentions(self, words: Iterable[str]) -> bool:
        """Cheap text prefilter: does any of `words` occur anywhere in the file?"""
        text = self.text
        return any(word in text for word in words)

    def line_text(self, line: int) -> str:
        """The 1-based line's text without its newline ('' past the end)."""
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def position(self, node: Node) -> tuple[int, int]:
        """1-based (line, column) of a node; the column counts characters, not UTF-8 bytes."""
        row, byte_column = node.start_point
        line = self.line_text(row + 1)
        if line.isascii():
            return row + 1, byte_column + 1
        prefix = line.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore")
        return row + 1, len(prefix) + 1

    def node_text(self, node: Node) -> str:
        raw = node.text
        return raw.decode("utf-8", errors="replace") if raw is not None else ""

    def locate(self, at: Node | int | tuple[int, int]) -> tuple[int, int]:
        if isinstance(at, int):
            return at, 1
        if isinstance(at, tuple):
            return at
        return self.position(at)

    def finding(
        self,
        rule: str,
        severity: Severity,
        at: Node | int | tuple[int, int],
        message: str,
        remediation: str = "",
    ) -> Finding:
        """A finding at a node or line of this file; the snippet is that source line."""
        line, column = self.locate(at)
        return Finding(
            rule=rule,
            severity=severity,
            path=self.path,
            line=line,
            column=column,
            message=message,
            remediation=remediation,
            snippet=self.line_text(line).strip(),
        )


def walk(node: Node) -> Iterator[Node]:
    """Every node below `node` (inclusive), depth first, without recursion."""
    cursor = node.walk()
    visited_children = False
    while True:
        if not visited_children:
            current = cursor.node
            if current is not None:
                yield current
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
        elif cursor.goto_parent():
            visited_children = True
        else:
            return
