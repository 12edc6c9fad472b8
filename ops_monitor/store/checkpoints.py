"""Queries on `ops_ingest_checkpoints`: how far `ops-monitor ingest` got in each file.

A checkpoint is saved in the transaction that stores the records it covers, so after a kill the
stored records and the checkpoint agree: a rerun reads on from the checkpoint, and nothing is
stored twice or skipped."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select, update

from ops_monitor.store.schema import ingest_checkpoints


@dataclass(frozen=True)
class FileIdentity:
    """What tells the same file from a new one at the same path: a rotated or replaced file has
    another inode, a rewritten one other first bytes."""

    device: int
    inode: int
    head_bytes: int
    head_sha256: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "device": self.device,
                "inode": self.inode,
                "head_bytes": self.head_bytes,
                "head_sha256": self.head_sha256,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> FileIdentity | None:
        try:
            data = json.loads(text)
            return cls(
                int(data["device"]),
                int(data["inode"]),
                int(data["head_bytes"]),
                str(data["head_sha256"]),
            )
        except (ValueError, KeyError, TypeError):
            return None  # a hand-edited row: the file reads from the start


@dataclass(frozen=True)
class Checkpoint:
    """Read on from byte `offset` (the start of line `line`), skipping the first `skip` records
    that line yields: they are stored (one line can hold several records, a tail event)."""

    path: str
    identity: FileIdentity
    offset: int
    line: int
    skip: int


def _key(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()


def load(connection: Connection, path: str) -> Checkpoint | None:
    c = ingest_checkpoints.c
    row = connection.execute(
        select(c.identity, c.offset, c.line, c.skip).where(c.path_sha256 == _key(path))
    ).first()
    if row is None:
        return None
    identity = FileIdentity.from_json(row[0])
    if identity is None:
        return None
    return Checkpoint(path, identity, int(row[1]), int(row[2]), int(row[3]))


def save(connection: Connection, checkpoint: Checkpoint) -> None:
    values = {
        "path": checkpoint.path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
        "identity": checkpoint.identity.to_json(),
        "offset": checkpoint.offset,
        "line": checkpoint.line,
        "skip": checkpoint.skip,
        "updated_at": datetime.now(UTC),
    }
    key = _key(checkpoint.path)
    c = ingest_checkpoints.c
    changed = connection.execute(
        update(ingest_checkpoints).where(c.path_sha256 == key).values(**values)
    )
    if not changed.rowcount:
        connection.execute(ingest_checkpoints.insert().values(path_sha256=key, **values))


def forget(connection: Connection, path: str) -> None:
    connection.execute(
        delete(ingest_checkpoints).where(ingest_checkpoints.c.path_sha256 == _key(path))
    )
