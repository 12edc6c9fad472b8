"""Mine log templates online: mask variables, then cluster what remains.

`TemplateMiner.match(message)` adds a message and returns its template (`<*>` for variables)
and a template id. The design, and why:

* Masking (`masking.mask`) is a pure function of the message, so most variables (numbers, ids,
  addresses, paths, quoted values) vanish before clustering and never depend on input order.
* Clustering is a fixed-depth prefix tree in the manner of Drain: messages are routed by token
  count and their leading literal tokens to a small list of clusters, and join the most similar
  one when enough literal tokens agree; differing positions become `<*>`.
* Template ids come from content, never from counters or Python's randomised `hash`: an id is
  the SHA-1 of the masked text that *created* the cluster. A cluster keeps its id as its template
  widens, so the id of a message never changes once issued, and the same input in the same order
  yields the same ids in every process.

Stable fingerprints for deduplication across scans: a caller that files issues persists the
miner with `to_json()` and restores it with `from_json()` before every scan, incremental or full.
Messages already seen map to the clusters (and ids) they had, whatever scan reads them again, so
an incremental scan and a full scan converge to the same ids. `masking.canonical(message)` is the
order-independent alternative when no state can be kept: it depends on the message alone but
cannot merge variables that no pattern recognises.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ops_monitor.analysis.masking import WILDCARD, mask

STATE_VERSION = 1


@dataclass(frozen=True)
class TemplateMatch:
    """The template a message belongs to, as returned by `TemplateMiner.match`."""

    template_id: str
    template: str


@dataclass
class _Cluster:
    cluster_id: str
    tokens: list[str]
    size: int = 0

    @property
    def template(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True)
class MinerSettings:
    """One configuration for every log: no per-source tuning is expected."""

    similarity: float = 0.5
    prefix_depth: int = 2
    max_clusters_per_leaf: int = 200


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


@dataclass
class TemplateMiner:
    """An online template miner whose state can be saved and restored."""

    settings: MinerSettings = field(default_factory=MinerSettings)
    _leaves: dict[tuple[str, ...], list[_Cluster]] = field(default_factory=dict)
    _ids: set[str] = field(default_factory=set)

    def mask(self, message: str) -> str:
        """Deterministic, order-independent masking of one message."""
        return mask(message)

    def match(self, message: str) -> TemplateMatch:
        """Add `message` to the miner and return its template and template id."""
        tokens = mask(message).split()
        leaf = self._leaves.setdefault(self._route(tokens), [])
        cluster = self._best(leaf, tokens)
        if cluster is None:
            cluster = _Cluster(self._new_id(" ".join(tokens)), list(tokens))
            leaf.append(cluster)
        else:
            cluster.tokens = [
                have if have == got else WILDCARD
                for have, got in zip(cluster.tokens, tokens, strict=True)
            ]
        cluster.size += 1
        return TemplateMatch(cluster.cluster_id, cluster.template)

    def templates(self) -> list[TemplateMatch]:
        """Every template mined so far, ordered by id."""
        found = [
            TemplateMatch(c.cluster_id, c.template) for leaf in self._leaves.values() for c in leaf
        ]
        return sorted(found, key=lambda m: m.template_id)

    def _route(self, tokens: list[str]) -> tuple[str, ...]:
        prefix = [
            t if WILDCARD not in t else WILDCARD for t in tokens[: self.settings.prefix_depth]
        ]
        return (str(len(tokens)), *prefix)

    def _best(self, leaf: list[_Cluster], tokens: list[str]) -> _Cluster | None:
        best: _Cluster | None = None
        best_score = -1.0
        for cluster in leaf:
            same = sum(
                1
                for have, got in zip(cluster.tokens, tokens, strict=True)
                if have == got and have != WILDCARD
            )
            literal = sum(1 for have in cluster.tokens if have != WILDCARD)
            score = same / len(tokens) if tokens else 1.0
            if score > best_score or (score == best_score and best is not None and literal < 0):
                best, best_score = cluster, score
        if best is None or best_score < self.settings.similarity:
            return None
        return best

    def _new_id(self, seed: str) -> str:
        candidate = _digest(seed)
        counter = 1
        while candidate in self._ids:
            candidate = _digest(f"{seed}\x00{counter}")
            counter += 1
        self._ids.add(candidate)
        return candidate

    def to_json(self) -> str:
        """Serialise the miner's state (settings and clusters) as JSON."""
        clusters = [
            {"route": list(route), "id": c.cluster_id, "tokens": c.tokens, "size": c.size}
            for route, leaf in self._leaves.items()
            for c in leaf
        ]
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "settings": vars(self.settings),
            "clusters": clusters,
        }
        return json.dumps(state, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TemplateMiner:
        """Restore a miner saved with `to_json`."""
        state = json.loads(text)
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported template miner state version: {state.get('version')!r}")
        miner = cls(MinerSettings(**state["settings"]))
        for item in state["clusters"]:
            cluster = _Cluster(str(item["id"]), [str(t) for t in item["tokens"]], int(item["size"]))
            miner._leaves.setdefault(tuple(item["route"]), []).append(cluster)
            miner._ids.add(cluster.cluster_id)
        return miner
