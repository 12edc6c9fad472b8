"""Queries on `ops_ingest_keys`: the answers of pushes sent with an `Idempotency-Key`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from ops_monitor.store.schema import ingest_keys


@dataclass(frozen=True)
class StoredPush:
    body_sha256: str
    response: str  # JSON, as the push was answered


def find(connection: Connection, key: str) -> StoredPush | None:
    c = ingest_keys.c
    row = connection.execute(select(c.body_sha256, c.response).where(c.key == key)).first()
    return None if row is None else StoredPush(row[0], row[1])


def save(connection: Connection, key: str, body_sha256: str, response: str, at: datetime) -> None:
    """Raises IntegrityError when another push with `key` committed first (on PostgreSQL, after
    waiting for it): the caller then answers with that push's response."""
    connection.execute(
        ingest_keys.insert().values(
            key=key, body_sha256=body_sha256, response=response, received_at=at
        )
    )


def purge_before(connection: Connection, cutoff: datetime) -> int:
    """Keys are kept as long as the records they stored: a retry after that stores it anew."""
    result = connection.execute(delete(ingest_keys).where(ingest_keys.c.received_at < cutoff))
    return int(result.rowcount or 0)
