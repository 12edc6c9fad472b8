"""Mine log templates: mask variables, then cluster what remains.

`TemplateMiner.match(message)` adds a message and returns its template (`<*>` for variables)
and a template id; `label_all(messages)` learns from a whole stream first and then labels every
message with its final template, in order. The design, and why:

* Masking (`masking.mask`) is a pure function of one message, so most variables (numbers, ids,
  addresses, paths, host names, quoted values, dates, sizes) vanish before clustering, whatever
  order the messages arrive in. Messages with the same masked text always share a template.
* What masking leaves are words. A differing word is taken for a constant (`failure` and
  `failures`, `bytes` and `values` tell events apart) until it proves to be a variable:
  - templates of the same length that agree everywhere but at one position merge once that
    position has shown `variable_after` distinct values (user names, states with many values);
    several positions varying together need that many combinations per position;
  - a template with a masked value where others hold a word takes them in (`user bob7` shows
    that `user alice` has a variable there);
  - when many templates crowd on the same leading word, positions where many of them differ
    become variables (a stream with several free words per message must not grow one template
    per message);
  - templates that only differ by how many variable tokens they carry (a list) are one.
  No merge may leave less than a third of a template as text, so short messages do not collapse
  into `<*> <*>`. How many values prove a variable (`MinerSettings`) is one setting for every
  log: the benchmark chooses it on some log types and scores it on another it never saw.
* `label_all` sees the whole stream before it labels: a second pass (`consolidate`) folds every
  template into a more general one of its length that covers it, so templates made before
  their positions proved variable do not stay beside the general one.
* A run of whole-token variables reads as one `<*>` in a template's text (a date, a name).
* Lookups stay cheap: a message costs one dictionary lookup when one with the same digit
  skeleton (`masking.digit_skeleton`: the same message but for which digits) was seen, or when
  its masked text was; otherwise only templates of the same length anchored on one of the
  message's words are tried.
* Template ids come from content, never from counters or Python's randomised `hash`: an id is a
  SHA-1 of the masked text that created the template. When templates merge, the oldest one's id
  survives and the others become aliases of it (`resolve(id)`), so the same input in the same
  order gives the same ids in every process.

Stable fingerprints across scans: a caller that files issues persists the miner with `to_json()`
and restores it with `from_json()` before every scan, incremental or full, and files issues
under `resolve(template_id)`. A message seen before maps to the template it had, and an id issued
before resolves to its surviving id, whichever scan reads it again, so incremental and full scans
converge to the same ids. When no state can be kept, `masking.canonical(message)` is an
order-independent fingerprint of one message alone (it cannot merge word variables, which need
to see several messages).
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
from typing import IO, Any

from ops_monitor.analysis.masking import WILDCARD, mask, mask_checked

_SKELETON = bytes.maketrans(b"23456789", b"11111111")  # as `masking.digit_skeleton`
_ANY_DIGIT = re.compile(r"\d")
_RUNS = re.compile(rb"[01]+")  # as `masking.run_skeleton`

STATE_VERSION = 1
_SPOOL_CHUNK = 1 << 16
_SCAN_LIMIT = 128
_WILDCARD_RUN = re.compile(r"<\*>(?:[\s,;:]*<\*>)+")
_SPACED_WILDCARDS = re.compile(r"(?<!\S)<\*>(?: <\*>)+(?!\S)")
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
    crowd: int = 32
    """Templates sharing a leading word before their most varied positions become variables."""
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
    _literal: int = -1
    _checks: tuple[list[tuple[int, str]], list[tuple[int, str]]] | None = None

    @property
    def template(self) -> str:
        """The tokens as text; a run of whole-token variables reads as one `<*>`, the way a
        multi-word value (a date, a name) is one variable."""
        return _SPACED_WILDCARDS.sub(WILDCARD, " ".join(self.tokens))

    @property
    def result(self) -> TemplateMatch:
        if self._result is None:
            self._result = TemplateMatch(self.cluster_id, self.template)
        return self._result

    def retemplate(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self._result = None
        self._literal = -1
        self._checks = None

    @property
    def literal(self) -> int:
        if self._literal < 0:
            self._literal = _literal_count(self.tokens)
        return self._literal

    def covers(self, tokens: list[str]) -> bool:
        """True when every token of the template covers the message token at its position."""
        if self._checks is None:
            pure = [(i, t) for i, t in enumerate(self.tokens) if WILDCARD not in t]
            partial = [(i, t) for i, t in enumerate(self.tokens) if t != WILDCARD and WILDCARD in t]
            self._checks = (pure, partial)
        pure, partial = self._checks
        for index, token in pure:  # most misses end here, on a plain comparison
            got = tokens[index]
            if got != token and not (WILDCARD in got and _loose(token) == _loose(got)):
                return False
        return all(_fits(token, tokens[index]) for index, token in partial)


def _literal_count(tokens: list[str]) -> int:
    return sum(1 for token in tokens if token != WILDCARD)


def _enough_literal(tokens: list[str]) -> bool:
    """At least a third of the tokens hold text: what a merge must leave of a template."""
    return 3 * _literal_count(tokens) >= len(tokens) and _anchor(tokens) >= 0


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
    with contextlib.ExitStack() as stack:
        spool: IO[bytes] | None = None  # opened only for a stream longer than one chunk
        numbers = array("I")
        learn = miner._learn
        for message in messages:
            numbers.append(learn(message).order)
            if len(numbers) >= _SPOOL_CHUNK:
                if spool is None:
                    spool = stack.enter_context(tempfile.TemporaryFile())
                numbers.tofile(spool)
                numbers = array("I")
        miner.consolidate()
        if spool is not None:
            numbers.tofile(spool)
            spool.seek(0)
        clusters = miner._by_order
        while True:
            if spool is not None:
                numbers = array("I")
                with contextlib.suppress(EOFError):  # a short last chunk is still read
                    numbers.fromfile(spool, _SPOOL_CHUNK)
            for number in numbers:
                cluster = clusters[number]
                if cluster.merged_into is not None:
                    cluster = _root(cluster)
                yield cluster.result
            if spool is None or len(numbers) < _SPOOL_CHUNK:
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


def _widened(template: list[str], tokens: list[str]) -> list[str] | None:
    """`template` taking a message's `(<*>)` where it holds `()`; None when nothing changes."""
    if not any(
        a != b and a != WILDCARD and WILDCARD in b for a, b in zip(template, tokens, strict=True)
    ):
        return None
    return [
        got if have != got and have != WILDCARD and WILDCARD in got else have
        for have, got in zip(template, tokens, strict=True)
    ]


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


def _anchor(tokens: list[str]) -> int:
    """Position of the first token with no variable in it; -1 when every token has one."""
    for position, token in enumerate(tokens):
        if WILDCARD not in token:
            return position
    return -1


@dataclass
class _Leaf:
    """The live templates of one token count, indexed so a new message meets few of them.

    A template's anchor is its first wholly literal token: a message it covers holds that same
    token at that position, so `by_anchor` finds covering templates and siblings that differ
    elsewhere with a few lookups. `by_rest` finds siblings that differ only at the anchor."""

    members: dict[_Cluster, None] = field(default_factory=dict)
    by_anchor: dict[tuple[int, str], dict[_Cluster, None]] = field(default_factory=dict)
    by_rest: dict[tuple[int, tuple[str, ...]], dict[_Cluster, None]] = field(default_factory=dict)

    @staticmethod
    def _keys(tokens: list[str]) -> tuple[tuple[int, str], tuple[int, tuple[str, ...]]]:
        at = _anchor(tokens)
        token = tokens[at] if at >= 0 else ""
        return (at, token), (at, (*tokens[:at], *tokens[at + 1 :]) if at >= 0 else ())

    def add(self, cluster: _Cluster) -> None:
        anchor, rest = self._keys(cluster.tokens)
        self.members[cluster] = None
        self.by_anchor.setdefault(anchor, {})[cluster] = None
        self.by_rest.setdefault(rest, {})[cluster] = None

    def remove(self, cluster: _Cluster) -> None:
        anchor, rest = self._keys(cluster.tokens)
        del self.members[cluster]
        del self.by_anchor[anchor][cluster]
        if not self.by_anchor[anchor]:
            del self.by_anchor[anchor]
        del self.by_rest[rest][cluster]
        if not self.by_rest[rest]:
            del self.by_rest[rest]

    def covering_candidates(self, tokens: list[str]) -> list[_Cluster]:
        """Every template that might cover `tokens`: those anchored on one of its literals."""
        found: list[_Cluster] = list(self.by_anchor.get((-1, ""), ()))
        for position, token in enumerate(tokens):
            bucket = self.by_anchor.get((position, token))
            if bucket:
                found.extend(bucket)
        return found

    def neighbours(self, tokens: list[str]) -> list[_Cluster]:
        """Templates sharing the anchor of `tokens`, or equal to them but at the anchor."""
        anchor, rest = self._keys(tokens)
        return list(
            {
                **dict.fromkeys(self.by_anchor.get(anchor, ())),
                **dict.fromkeys(self.by_rest.get(rest, ())),
            }
        )


@dataclass
class TemplateMiner:
    """A template miner that learns as it goes and whose state can be saved and restored."""

    settings: MinerSettings = field(default_factory=MinerSettings)
    _leaves: dict[int, _Leaf] = field(default_factory=dict)
    _by_id: dict[str, _Cluster] = field(default_factory=dict)
    _by_shape: dict[str, _Cluster] = field(default_factory=dict)
    _exact: dict[str, _Cluster] = field(default_factory=dict)
    _by_order: list[_Cluster] = field(default_factory=list)
    _seen: dict[bytes, _Cluster] = field(default_factory=dict)
    _by_runs: dict[bytes, _Cluster] = field(default_factory=dict)

    def mask(self, message: str) -> str:
        """Deterministic, order-independent masking of one message."""
        return mask(message)

    def match(self, message: str) -> TemplateMatch:
        """Add `message` to the miner and return its template and template id."""
        return _root(self._learn(message)).result

    def _learn(self, message: str) -> _Cluster:
        """Add `message`; return the cluster it joined (which may since have merged away)."""
        skeleton = message.encode("utf-8", "surrogatepass").translate(_SKELETON)
        cluster = self._seen.get(skeleton)
        if cluster is None:
            runs = _RUNS.sub(b"1", skeleton)
            cluster = self._by_runs.get(runs)
            remember = True
            if cluster is None:
                masked, same_for_runs = mask_checked(message)
                cluster = self._learn_masked(masked)
                if same_for_runs:  # every message with these runs masks alike
                    if len(self._by_runs) >= self.settings.exact_cache_size:
                        self._by_runs.clear()
                    self._by_runs[runs] = cluster
                # a digit kept by masking: a message of the same skeleton may mask otherwise
                remember = _ANY_DIGIT.search(masked) is None
            if remember:
                if len(self._seen) >= self.settings.exact_cache_size:
                    self._seen.clear()
                self._seen[skeleton] = cluster
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
            else:
                widened = _widened(cluster.tokens, tokens)
                if widened is not None:
                    self._retemplate(cluster, widened)
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
        leaf = self._leaves.get(len(tokens))
        for cluster in leaf.covering_candidates(tokens) if leaf is not None else ():
            literal = cluster.literal
            if 3 * literal < len(tokens) and literal != message_literal:
                continue  # a template with little text only takes messages of its own shape
            if not cluster.covers(tokens):
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
        self._leaves.setdefault(len(tokens), _Leaf()).add(cluster)
        survivor = self._absorb_specific(cluster)
        survivor = self._merge_variable_positions(survivor)
        survivor = self._relieve_crowding(survivor)
        self._merge_same_shape(survivor)
        return survivor

    def consolidate(self) -> None:
        """A second pass over what was learned: fold every template into a more general live
        template of its length that covers it. Online, a template made before its positions
        proved variable may be left beside the general one; seeing the whole stream, it is not.
        """
        for length in sorted(self._leaves):
            leaf = self._leaves[length]
            for cluster in sorted(leaf.members, key=lambda c: (c.literal, c.order)):
                if cluster in leaf.members:
                    self._absorb_specific(cluster)

    def _absorb_specific(self, cluster: _Cluster) -> _Cluster:
        """Fold in siblings that `cluster` covers: a masked value where they hold a word shows
        that the position is a variable (`user <*>` from `user bob7` covers `user alice`)."""
        if not _mostly_literal(cluster.tokens):
            return cluster
        leaf = self._leaves[len(cluster.tokens)]
        # What `cluster` covers holds its anchor token at the anchor position. Templates anchored
        # there are indexed; ones anchored earlier are found by a scan, only in a small leaf.
        at = _anchor(cluster.tokens)
        if at > 0 and len(leaf.members) <= _SCAN_LIMIT:
            pool = list(leaf.members)
        else:
            pool = list(leaf.by_anchor.get((at, cluster.tokens[at] if at >= 0 else ""), ()))
        covered = [s for s in pool if s is not cluster and cluster.covers(s.tokens)]
        if not covered:
            return cluster
        return self._fold([cluster, *covered], cluster.tokens)

    def _retemplate(self, cluster: _Cluster, tokens: list[str]) -> None:
        leaf = self._leaves[len(cluster.tokens)]
        leaf.remove(cluster)
        cluster.retemplate(tokens)
        leaf.add(cluster)

    def _fold(self, group: list[_Cluster], tokens: list[str]) -> _Cluster:
        survivor = min(group, key=lambda c: c.order)
        leaf = self._leaves[len(tokens)]
        for other in group:
            if other is not survivor:
                leaf.remove(other)
                other.merged_into = survivor
                survivor.size += other.size
        self._retemplate(survivor, list(tokens))
        return survivor

    def _merge_variable_positions(self, cluster: _Cluster) -> _Cluster:
        """Merge `cluster` with siblings that differ from it only at positions that have shown
        `variable_after` distinct values; those positions become variables.

        Several positions varying together (`from NEW to RUNNING`) are often a small set of
        events rather than free variables, so they need that many combinations per position."""
        most = max(1, len(cluster.tokens) // 3)
        changed = True
        while changed:
            changed = False
            leaf = self._leaves[len(cluster.tokens)]
            differences: dict[tuple[int, ...], list[_Cluster]] = {}
            for sibling in leaf.neighbours(cluster.tokens):
                if sibling is cluster:
                    continue
                differ = tuple(
                    i
                    for i, (a, b) in enumerate(zip(sibling.tokens, cluster.tokens, strict=True))
                    if a != b
                )
                if len(differ) <= most:
                    differences.setdefault(differ, []).append(sibling)
            twins = differences.pop((), [])
            if twins:  # templates that became equal through earlier merges
                cluster = self._fold([cluster, *twins], cluster.tokens)
            for positions in sorted(differences, key=lambda d: (len(d), d)):
                group = [cluster] + [
                    sibling
                    for differ, siblings in differences.items()
                    if set(differ) <= set(positions)
                    for sibling in siblings
                ]
                values = [{c.tokens[p] for c in group} for p in positions]
                needed = self.settings.variable_after
                if min(len(v) for v in values) < needed or len(group) < needed * len(positions):
                    continue  # several positions at once need more combinations as evidence
                tokens = list(cluster.tokens)
                for position, seen in zip(positions, values, strict=True):
                    tokens[position] = _generalise(seen)
                if not _enough_literal(tokens):
                    continue  # most of the message would be variable: too little evidence left
                cluster, changed = self._fold(group, tokens), True
                break
        return cluster

    def _relieve_crowding(self, cluster: _Cluster) -> _Cluster:
        """When many templates share an anchor, positions where most of them differ are taken
        for variables even if no single position proved it alone (several free words at once).

        This keeps a stream of messages with many unrecognised variables from growing one
        template per message, which would also make every later message slower to place."""
        leaf = self._leaves[len(cluster.tokens)]
        anchor, _ = _Leaf._keys(cluster.tokens)
        crowd = leaf.by_anchor.get(anchor, {})
        if len(crowd) < self.settings.crowd:
            return cluster
        tokens = list(cluster.tokens)
        for position in range(len(tokens)):
            values = {member.tokens[position] for member in crowd}
            if len(values) >= max(self.settings.variable_after, len(crowd) // 4):
                tokens[position] = _generalise(values)
        if tokens == cluster.tokens or not _enough_literal(tokens):
            return cluster
        probe = _Cluster("", tokens, order=-1)
        return self._fold(
            [cluster, *(m for m in crowd if m is not cluster and probe.covers(m.tokens))], tokens
        )

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
        live = {id(c) for leaf in self._leaves.values() for c in leaf.members}
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
                    miner._leaves.setdefault(len(cluster.tokens), _Leaf()).add(cluster)
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
