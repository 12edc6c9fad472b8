"""Issue titles that read like the messages behind them: `POST /api/orders/<n> -> ok`, not
`POST <*> -> ok`.

The template miner masks a whole path as one variable, which is right for grouping and wrong for
a reader, who wants the route and the method. A `TitleShape` follows the records of one issue
(token by token, and within a path segment by segment): what all of them share stays as written,
what differs between them becomes a placeholder, and what is an identifier on its face (a UUID,
a long hex id, a long number, an e-mail or IP address, a numeric path segment) is masked even
when only one record was seen. Titles only: fingerprints come from the miner's template ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RECORDS_FOLLOWED = 200  # records per issue and scan compared; variable parts show well before
ANY = "<*>"
NUMBER = "<n>"
IDENT = "<id>"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}")
_LONG_NUMBER = re.compile(r"[-+]?\d{4,}(?:\.\d+)?")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?")
_PUNCT = re.compile(r"^([\"'(\[<{]*)(.*?)([\"')\]>},;:.!?]*)$", re.DOTALL)
_MIXED_ID = re.compile(r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{16,}")  # tokens, keys, slugs


def _mask_word(word: str, *, in_path: bool) -> str:
    """`word` with an identifier replaced; everything else as written."""
    lead, core, trail = _PUNCT.match(word).groups()  # type: ignore[union-attr]
    if not core:
        return word
    if _UUID.fullmatch(core) or _HEX.fullmatch(core) or _MIXED_ID.fullmatch(core):
        core = IDENT
    elif _EMAIL.fullmatch(core) or _IPV4.fullmatch(core):
        core = ANY
    elif _LONG_NUMBER.fullmatch(core) or (in_path and _NUMBER.fullmatch(core)):
        core = NUMBER
    elif "=" in core and not in_path:
        key, _, value = core.partition("=")
        if value and value not in ("true", "false"):
            masked = _mask_word(value, in_path=True)
            core = f"{key}={masked}"
    return f"{lead}{core}{trail}"


def _is_path(token: str) -> bool:
    return "/" in token and " " not in token


def _mask_token(token: str) -> str:
    if not _is_path(token):
        return _mask_word(token, in_path=False)
    path, question, query = token.partition("?")
    segments = [_mask_word(s, in_path=True) if s else s for s in path.split("/")]
    masked = "/".join(segments)
    if question:
        pairs = []
        for pair in query.split("&"):
            key, equals, _value = pair.partition("=")
            pairs.append(f"{key}={ANY}" if equals else pair)
        masked += "?" + "&".join(pairs)
    return masked


def _merge_token(kept: str, other: str) -> str:
    """One token shared by two records: itself if equal, else the common part of two paths
    segment by segment, else a placeholder."""
    if kept == other:
        return kept
    if kept in (ANY, NUMBER, IDENT):
        return kept
    if _is_path(kept) and _is_path(other):
        mine, theirs = kept.split("/"), other.split("/")
        if len(mine) == len(theirs):
            return "/".join(
                a if a == b or a in (ANY, NUMBER, IDENT) else ANY
                for a, b in zip(mine, theirs, strict=True)
            )
    if _NUMBER.fullmatch(kept) and _NUMBER.fullmatch(other):
        return NUMBER
    return ANY


@dataclass
class TitleShape:
    """What the records of one issue have in common, token by token."""

    tokens: list[str]
    aligned: bool = True
    followed: int = 1
    _seen: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def of(cls, message: str) -> TitleShape:
        return cls([_mask_token(token) for token in message.split()], _seen={message})

    def add(self, message: str) -> None:
        if not self.aligned or self.followed >= RECORDS_FOLLOWED or message in self._seen:
            return
        self._seen.add(message)
        self.followed += 1
        tokens = [_mask_token(token) for token in message.split()]
        if len(tokens) != len(self.tokens):
            self.aligned = False  # records of different lengths: the miner's template it is
            return
        self.tokens = [_merge_token(a, b) for a, b in zip(self.tokens, tokens, strict=True)]

    def merge(self, other: TitleShape) -> None:
        if not other.aligned or len(other.tokens) != len(self.tokens):
            self.aligned = False
            return
        self.tokens = [_merge_token(a, b) for a, b in zip(self.tokens, other.tokens, strict=True)]

    def text(self, fallback: str) -> str:
        """The title text, or `fallback` (the template) when the records did not line up."""
        return " ".join(self.tokens) if self.aligned and self.tokens else fallback
