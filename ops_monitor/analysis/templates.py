"""Mine log templates: mask variables, then cluster what remains.

`TemplateMiner.match(message)` adds a message and returns its template (`<*>` for variables)
and a template id. The design, and why:

* Masking (`masking.mask`) is a pure function of one message, so most variables (numbers, ids,
  addresses, paths, host names, quoted values, dates) vanish before clustering, whatever order
  the messages arrive in. Messages with the same masked text always share a template.
* What masking leaves are words. A differing word is taken for a constant (`failure` and
  `failures`, `bytes` and `values` tell events apart) until it proves to be a variable: when
  templates of the same length agree everywhere but at one position and that position has shown
  `variable_after` distinct values, they merge and the position becomes `<*>` (user names, states
  with many values). Templates that only differ by how many variable tokens they carry (a list,
  a multi-word value) are merged too. Messages are first routed by token count, so a new message
  is compared with few templates, and an exact-text cache makes repeated shapes cost one lookup.
* Template ids come from content, never from counters or Python's randomised `hash`: an id is a
  SHA-1 of the masked text that created the template. When templates merge, the oldest one's id
  survives and the others become aliases of it (`resolve(id)`), so the same input in the same
  order gives the same ids in every process.

Stable fingerprints across scans: a caller that files issues persists the miner with `to_json()`
and restores it with `from_json()` before every scan, incremental or full. A message seen before
maps to the template it had, and an id issued before resolves to its surviving id, whichever
scan reads it again, so incremental and full scans converge to the same ids. When no state can be
kept, `masking.canonical(message)` is an order-independent fingerprint of one message alone (it
cannot merge word variables, which need to see several messages).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from ops_monitor.analysis.masking import WILDCARD, mask

STATE_VERSION = 1
_SPOOL_CHUNK = 1 << 16
_WILDCARD_RUN = re.compile(r"<\*>(?:[\s,;:]*<\*>)+")
_EDGE = re.compile(r"^([^\w<]*\w*[=:])|([^\w>]+)$")


@dataclass(frozen=True)
class TemplateMatch:
    """The template a message belongs to, as returned by `TemplateMiner.match`."""

    template_id: str
    template: str


@dataclass(frozen=True)
class MinerSettings:
    """One configuration for every log: nothing here is meant to be tuned per source."""

    variable_after: int = 4
    """Distinct words seen at one position before that position is taken for a variable."""
    exact_cache_size: int = 100_000
    """Messages and masked texts remembered for the one-lookup fast paths (bounded memory)."""


@dataclass(eq=False)
class _Cluster:
    cluster_id: str
    tokens: list[str]
    order: int
    size: int = 0
    merged_into: _Cluster | None = None
    _result: TemplateMatch | None = None

    @property
    def template(self) -> str:
        return " ".join(self.tokens)

    @property
    def result(self) -> TemplateMatch:
        if self._result is None:
            self._result = TemplateMatch(self.cluster_id, self.template)
        return self._result

    def retemplate(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self._result = None

    @property
    def literal(self) -> int:
        return _literal_count(self.tokens)


def _literal_count(tokens: list[str]) -> int:
    return sum(1 for token in tokens if token != WILDCARD)


def _mostly_literal(tokens: list[str]) -> bool:
    """More than half the tokens hold text: enough evidence to take in other messages."""
    return 2 * _literal_count(tokens) > len(tokens)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _root(cluster: _Cluster) -> _Cluster:
    while cluster.merged_into is not None:
        cluster = cluster.merged_into
    return cluster


def label_all(
    messages: Iterable[str], miner: TemplateMiner | None = None
) -> Iterator[TemplateMatch]:
    """Learn from every message first, then yield each message's final template in input order.

    Online labels can change meaning as templates merge; labelling after learning gives every
    message the template it ends up in. The input is read once: per message only the number of
    its template (4 bytes) is kept, in a temporary file, so memory stays bounded by the miner.
    """
    miner = TemplateMiner() if miner is None else miner
    with tempfile.TemporaryFile() as spool:
        numbers = array("I")
        for message in messages:
            numbers.append(miner._learn(message).order)
            if len(numbers) >= _SPOOL_CHUNK:
                numbers.tofile(spool)
                numbers = array("I")
        numbers.tofile(spool)
        spool.seek(0)
        clusters = miner._by_order
        while True:
            numbers = array("I")
            with contextlib.suppress(EOFError):  # a short last chunk is still read
                numbers.fromfile(spool, _SPOOL_CHUNK)
            for number in numbers:
                cluster = clusters[number]
                if cluster.merged_into is not None:
                    cluster = _root(cluster)
                yield cluster.result
            if len(numbers) < _SPOOL_CHUNK:
                return


def _loose(token: str) -> str:
    return token.replace(WILDCARD, "")


@functools.lru_cache(maxsize=4096)
def _token_pattern(token: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in token.split(WILDCARD)), re.DOTALL)


def _fits(have: str, got: str) -> bool:
    """True when template token `have` covers message token `got` (`user=<*>` covers `user=x`)."""
    if have in (got, WILDCARD):
        return True
    if WILDCARD in have:
        return _token_pattern(have).fullmatch(got) is not None or _loose(have) == _loose(got)
    return WILDCARD in got and _loose(have) == _loose(got)


def _covers(template: list[str], tokens: list[str]) -> bool:
    """True when every token of `template` covers the token of the message at its position."""
    return all(_fits(have, got) for have, got in zip(template, tokens, strict=True))


def _widen(template: list[str], tokens: list[str]) -> bool:
    """Let `template` take a message's `(<*>)` where it holds `()`; True when it changed."""
    changed = False
    for index, (have, got) in enumerate(zip(template, tokens, strict=True)):
        if have != got and have != WILDCARD and WILDCARD in got:
            template[index] = got
            changed = True
    return changed


def _generalise(values: set[str]) -> str:
    """One token covering all `values`: keep a shared `key=` prefix and trailing punctuation."""
    edges = [_EDGE.findall(v) for v in values]
    prefixes = {next((p for p, _ in found if p), "") for found in edges}
    suffixes = {next((s for _, s in found if s), "") for found in edges}
    prefix = prefixes.pop() if len(prefixes) == 1 else ""
    suffix = suffixes.pop() if len(suffixes) == 1 else ""
    return f"{prefix}{WILDCARD}{suffix}"


def _shape(tokens: list[str]) -> str:
    return " ".join(_WILDCARD_RUN.sub(WILDCARD, " ".join(tokens)).split())


@dataclass
class TemplateMiner:
    """A template miner that learns as it goes and whose state can be saved and restored."""

    settings: MinerSettings = field(default_factory=MinerSettings)
    _leaves: dict[int, list[_Cluster]] = field(default_factory=dict)
    _by_id: dict[str, _Cluster] = field(default_factory=dict)
    _by_shape: dict[str, _Cluster] = field(default_factory=dict)
    _exact: dict[str, _Cluster] = field(default_factory=dict)
    _by_order: list[_Cluster] = field(default_factory=list)
    _seen: dict[str, _Cluster] = field(default_factory=dict)

    def mask(self, message: str) -> str:
        """Deterministic, order-independent masking of one message."""
        return mask(message)

    def match(self, message: str) -> TemplateMatch:
        """Add `message` to the miner and return its template and template id."""
        return _root(self._learn(message)).result

    def _learn(self, message: str) -> _Cluster:
        """Add `message`; return the cluster it joined (which may since have merged away)."""
        cluster = self._seen.get(message)
        if cluster is None:
            cluster = self._learn_masked(mask(message))
            if len(self._seen) >= self.settings.exact_cache_size:
                self._seen.clear()
            self._seen[message] = cluster
        root = cluster
        while root.merged_into is not None:
            root = root.merged_into
        root.size += 1
        return cluster

    def _learn_masked(self, masked: str) -> _Cluster:
        cluster = self._exact.get(masked)
        if cluster is None:
            tokens = masked.split()
            cluster = self._covering(tokens)
            if cluster is None:
                cluster = self._create(tokens)
            elif _widen(cluster.tokens, tokens):
                cluster.retemplate(cluster.tokens)
            self._remember(masked, cluster)
        return cluster

    def lookup(self, message: str) -> TemplateMatch | None:
        """The template `message` belongs to, without learning from it; None when unknown."""
        masked = mask(message)
        cluster = self._exact.get(masked) or self._covering(masked.split())
        if cluster is None:
            return None
        return _root(cluster).result

    def resolve(self, template_id: str) -> str:
        """The id that `template_id` stands for now (itself unless its template was merged)."""
        cluster = self._by_id.get(template_id)
        return template_id if cluster is None else _root(cluster).cluster_id

    def templates(self) -> list[TemplateMatch]:
        """Every live template, ordered by id."""
        found = {_root(c).cluster_id: _root(c).template for c in self._by_id.values()}
        return [TemplateMatch(i, t) for i, t in sorted(found.items())]

    def _remember(self, masked: str, cluster: _Cluster) -> None:
        if len(self._exact) >= self.settings.exact_cache_size:
            self._exact.clear()
        self._exact[masked] = cluster

    def _covering(self, tokens: list[str]) -> _Cluster | None:
        best: _Cluster | None = None
        best_literal = -1
        message_literal = _literal_count(tokens)
        for cluster in self._leaves.get(len(tokens), ()):
            if not _mostly_literal(cluster.tokens) and cluster.literal != message_literal:
                continue  # a template that is mostly variable only takes messages of its shape
            if not _covers(cluster.tokens, tokens):
                continue
            if cluster.literal > best_literal:
                best, best_literal = cluster, cluster.literal
        return best

    def _create(self, tokens: list[str]) -> _Cluster:
        seed = " ".join(tokens)
        cluster_id = _digest(seed)
        counter = 1
        while cluster_id in self._by_id:
            cluster_id = _digest(f"{seed}\x00{counter}")
            counter += 1
        cluster = _Cluster(cluster_id, list(tokens), order=len(self._by_id))
        self._by_id[cluster_id] = cluster
        self._by_order.append(cluster)
        self._leaves.setdefault(len(tokens), []).append(cluster)
        survivor = self._absorb_specific(cluster)
        survivor = self._merge_variable_positions(survivor)
        self._merge_same_shape(survivor)
        return survivor

    def _absorb_specific(self, cluster: _Cluster) -> _Cluster:
        """Fold in siblings that `cluster` covers: a masked value where they hold a word shows
        that the position is a variable (`user <*>` from `user bob7` covers `user alice`)."""
        leaf = self._leaves[len(cluster.tokens)]
        if not _mostly_literal(cluster.tokens):
            return cluster
        covered = [s for s in leaf if s is not cluster and _covers(cluster.tokens, s.tokens)]
        if not covered:
            return cluster
        return self._fold(leaf, [cluster, *covered], cluster.tokens)

    def _fold(self, leaf: list[_Cluster], group: list[_Cluster], tokens: list[str]) -> _Cluster:
        survivor = min(group, key=lambda c: c.order)
        survivor.retemplate(list(tokens))
        for other in group:
            if other is not survivor:
                leaf.remove(other)
                other.merged_into = survivor
                survivor.size += other.size
        return survivor

    def _merge_variable_positions(self, cluster: _Cluster) -> _Cluster:
        """Merge `cluster` with siblings differing at one position that has shown many values."""
        leaf = self._leaves[len(cluster.tokens)]
        changed = True
        while changed:
            changed = False
            by_position: dict[int, list[_Cluster]] = {}
            for sibling in leaf:
                if sibling is cluster:
                    continue
                differ = [
                    i
                    for i, (a, b) in enumerate(zip(sibling.tokens, cluster.tokens, strict=True))
                    if a != b
                ]
                if len(differ) == 1:
                    by_position.setdefault(differ[0], []).append(sibling)
            for position, siblings in sorted(by_position.items()):
                group = [cluster, *siblings]
                values = {c.tokens[position] for c in group}
                if len(values) < self.settings.variable_after:
                    continue
                tokens = list(cluster.tokens)
                tokens[position] = _generalise(values)
                if not _mostly_literal(tokens):
                    continue  # most of the message would be variable: too little evidence left
                cluster, changed = self._fold(leaf, group, tokens), True
                break
        return cluster

    def _merge_same_shape(self, cluster: _Cluster) -> None:
        """Alias templates that differ only in how many variable tokens they carry."""
        shape = _shape(cluster.tokens)
        if WILDCARD not in shape:
            return
        known = self._by_shape.get(shape)
        if known is None or _root(known) is cluster:
            self._by_shape[shape] = cluster
            return
        target = _root(known)
        if len(target.tokens) != len(cluster.tokens):
            cluster.merged_into = target
            target.size += cluster.size

    def to_json(self) -> str:
        """Serialise the miner's state (settings and templates) as JSON."""
        live = {id(c) for leaf in self._leaves.values() for c in leaf}
        clusters = [
            {
                "id": c.cluster_id,
                "tokens": c.tokens,
                "order": c.order,
                "size": c.size,
                "live": id(c) in live,
                "merged_into": None if c.merged_into is None else c.merged_into.cluster_id,
            }
            for c in sorted(self._by_id.values(), key=lambda c: c.order)
        ]
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "settings": asdict(self.settings),
            "clusters": clusters,
        }
        return json.dumps(state, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TemplateMiner:
        """Restore a miner saved with `to_json`; ValueError when the text is not such a state."""
        try:
            state = json.loads(text)
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported state version {state.get('version')!r}")
            miner = cls(MinerSettings(**state["settings"]))
            parents: dict[str, str] = {}
            for item in state["clusters"]:
                if item["order"] != len(miner._by_order):
                    raise ValueError(f"template {item['id']!r} is out of order")
                cluster = _Cluster(
                    str(item["id"]), [str(t) for t in item["tokens"]], len(miner._by_order)
                )
                cluster.size = int(item["size"])
                miner._by_id[cluster.cluster_id] = cluster
                miner._by_order.append(cluster)
                if item["live"]:
                    miner._leaves.setdefault(len(cluster.tokens), []).append(cluster)
                if item["merged_into"] is not None:
                    parents[cluster.cluster_id] = str(item["merged_into"])
            for child, parent in parents.items():
                miner._by_id[child].merged_into = miner._by_id[parent]
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as error:
            raise ValueError(f"not a template miner state: {error}") from error
        for cluster in sorted(miner._by_id.values(), key=lambda c: c.order):
            shape = _shape(cluster.tokens)
            if WILDCARD in shape and cluster.merged_into is None:
                miner._by_shape.setdefault(shape, cluster)
        return miner
