"""What one ingest (a push, a file) came to, and the key that makes a push safe to retry."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class IngestSummary:
    """`stored` records went into the store; `expired` ones were older than the retention window
    and were not stored (a scan would have purged them); `malformed` ones could not be read.
    `replayed` says the answer is the one given to an earlier push with the same key."""

    stored: int
    expired: int
    malformed: int
    malformed_samples: list[str] = field(default_factory=list)
    replayed: bool = False

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if k != "replayed"})

    @classmethod
    def from_json(cls, text: str, *, replayed: bool) -> IngestSummary:
        data = json.loads(text)
        return cls(
            stored=int(data["stored"]),
            expired=int(data["expired"]),
            malformed=int(data["malformed"]),
            malformed_samples=[str(sample) for sample in data["malformed_samples"]],
            replayed=replayed,
        )


@dataclass(frozen=True)
class IdempotencyKey:
    """A producer's `Idempotency-Key` and a hash of the body it came with."""

    key: str
    body_sha256: str


class IdempotencyKeyReused(ValueError):
    """The key was used before for a different body: a producer bug, never a retry."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was used before for a different body; "
            "use a new key for a new batch"
        )
