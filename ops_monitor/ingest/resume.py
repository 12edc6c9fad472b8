"""Reading a log file from where an earlier `ops-monitor ingest` stopped.

A file is read as bytes and each line decoded on its own (as a text read with `newline=""`
would, bad bytes replaced), so the byte offset of every line start is known exactly. Sources
announce each record's line on `MalformedLines.line` (the first line of a multi-line record);
`FilePosition` turns that into the position after the last record handed out: the offset of
that line, and how many of that line's records came before (a tail event is several records).
"""

from __future__ import annotations

import hashlib
import os
from array import array
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.models import LogRecord
from ops_monitor.store.checkpoints import Checkpoint, FileIdentity

HEAD_BYTES = 4096  # what identifies a file's content, with its device and inode


def identify(handle: BinaryIO) -> FileIdentity:
    """The identity of the open file (its position is left at 0)."""
    status = os.fstat(handle.fileno())
    handle.seek(0)
    head = handle.read(HEAD_BYTES)
    handle.seek(0)
    return FileIdentity(status.st_dev, status.st_ino, len(head), hashlib.sha256(head).hexdigest())


def same_file(
    saved: FileIdentity, current: FileIdentity, head: bytes, size: int, offset: int
) -> bool:
    """Whether the file at the path is the one a checkpoint was saved for, grown or not: the
    same device and inode, at least as long as the checkpoint's offset, and the same first
    bytes (as many as were hashed then)."""
    return (
        (saved.device, saved.inode) == (current.device, current.inode)
        and size >= offset
        and len(head) >= saved.head_bytes
        and hashlib.sha256(head[: saved.head_bytes]).hexdigest() == saved.head_sha256
    )


class FilePosition:
    """The lines of a file from a checkpoint, and the checkpoint after each record handed out."""

    def __init__(
        self,
        handle: BinaryIO,
        path: str,
        identity: FileIdentity,
        malformed: MalformedLines,
        start: Checkpoint | None = None,
    ) -> None:
        self.handle = handle
        self.path = path
        self.identity = identity
        self.malformed = malformed
        self.offset = start.offset if start is not None else 0
        self.first_line = start.line if start is not None else 1
        self._skip = start.skip if start is not None else 0
        malformed.line_base = self.first_line - 1  # samples name the line in the whole file
        self._starts = array("q")  # byte offset of each line read and not yet passed by
        self._base = 1  # the (relative) number of the line at _starts[0]
        self._read = 0  # lines read so far
        self._line = 0  # the (relative) line of the last record handed out, and its count
        self._count = 0
        self._done = False

    def lines(self) -> Iterator[str]:
        self.handle.seek(self.offset)
        offset, starts = self.offset, self._starts
        for raw in self.handle:
            starts.append(offset)
            offset += len(raw)
            self.offset = offset
            self._read += 1
            yield raw.decode("utf-8", errors="replace")
        self._done = True

    def records(self, records: Iterable[LogRecord]) -> Iterator[LogRecord]:
        """`records`, minus those of the checkpoint's line that an earlier run stored."""
        malformed = self.malformed
        for record in records:
            line = malformed.line
            if line != self._line:
                self._pass(line)
            self._count += 1
            if line == 1 and self._count <= self._skip:
                continue
            yield record

    def _pass(self, line: int) -> None:
        """A record of a later line: the offsets of the lines before it are no longer needed."""
        drop = line - self._base
        if drop > 0:
            del self._starts[:drop]
            self._base = line
        self._line, self._count = line, 0

    def checkpoint(self) -> Checkpoint:
        """Where a rerun reads on after the records handed out so far."""
        if self._done:  # the whole file: a rerun reads only what is appended
            return Checkpoint(
                self.path, self.identity, self.offset, self.first_line + self._read, 0
            )
        if self._line == 0:  # no record yet: from where this run started
            return Checkpoint(
                self.path,
                self.identity,
                self._starts[0] if self._starts else self.offset,
                self.first_line,
                self._skip,
            )
        return Checkpoint(
            self.path,
            self.identity,
            self._starts[self._line - self._base],
            self.first_line + self._line - 1,
            self._count,
        )
