"""Replace the variable parts of a log message with `<*>` before clustering.

Masking is a pure function of one message: it never depends on what was seen before, so the
same message masks the same way in every process, scan and order. Clustering then only has to
deal with variables that no pattern recognises (user names, words that happen to vary).
The patterns are general token classes, not the formats of any particular log.

Why token by token: a message is split on whitespace and each token is masked on its own, so a
token seen before (most words of most messages) costs one dictionary lookup. Only three things
look beyond one token: quoted values (one value or a structure such as JSON, which may hold
spaces; a quoted phrase of words is masked like the rest), a number followed by a scaled unit
(`5.2 KB`, `1.1 MB`), and calendar words next to a day number (`Jul 3`, `Sun Jul 3`).
The result is the tokens joined by single spaces.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"

# Host names: lower-case dotted labels ending in a common top-level domain. File names with an
# extension (`setup.py`, `notes.md`) are not hosts, so extensions that are also country codes
# are left out on purpose.
_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|io|co|uk|de|fr|jp|cn|ru|br|au|ca|us|nl|it|es|se|ch|"
    "kr|tw|hk|sg|nz|za|pt|be|dk|no|fi|pl|cz|at|ar|mx|tr|gr|ie|il|hu|ro|ua|vn|th|my|id|ph|eu|"
    "local|lan|internal|localdomain|arpa"
)

# One alternation, tried left to right at each position of a token: the leftmost match wins,
# and among matches at the same position the first listed class wins. Earlier classes are the
# ones whose text later ones would cut in pieces (a URL holds a path and numbers).
_CLASSES: tuple[tuple[str, str], ...] = (
    ("url", r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>()\[\]{}]+"),
    ("email", r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b"),
    (
        "uuid",
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
    ),
    (
        "ipv6",
        r"(?<![\w:.])\[?(?=[0-9a-fA-F:]*\d)(?=(?:[0-9a-fA-F]{0,4}:){2})"
        r"(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:\](?::\d{1,5})?)?(?![\w:])",
    ),
    ("ipv4", r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])"),
    ("winpath", r"\b[A-Za-z]:\\[^\s'\"<>|]*"),
    ("path", r"(?<![\w.:/~])(?:~|\.{1,2})?(?:/+[\w.\-@%+~,$=]+)+/?"),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b"),
    ("host", rf"(?<![\w.\-])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w\-]|\.\w)"),
    ("time", r"(?<![\w:])\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?![\w:])"),
    # Any run of identifier characters that holds a digit: numbers, durations (`15ms`), sizes
    # (`64MB`), versions, block/attempt/container ids, hashes, dates. A colon ends the run
    # unless a digit follows it, so `key:value` keeps its key.
    ("digits", r"(?:[\w\-#@+]|\.(?=\w))*\d(?:[\w\-#@+]|\.(?=\w)|:(?=\d))*"),
)
_TOKEN_PATTERN = re.compile("|".join(f"(?P<{name}>{regex})" for name, regex in _CLASSES))
_SIMPLE_CORE = frozenset("[](){}<>\\")
_WRAP_HEAD = "([{<"
_WRAP_TAIL = ")]}>,;.:"
_PATH_STARTS = ("/", "~/", "./", "../")
_URL_OR_PATH = re.compile(rf"(?:{dict(_CLASSES)['url']})|(?:{dict(_CLASSES)['path']})")
# `key=value` or `key:value` with a key of letters: the key is text, the value is looked at.
_KEYED = re.compile(r"([A-Za-z_][A-Za-z_.\-]*[=:])(.+)")
# A run of identifier characters holding a digit (numbers, ids, versions, addresses, times),
# but not across `..`, which joins words to values in dotted leaders (`operation.....1`).
_PLAIN_VARIABLE = re.compile(r"(?!.*\.\.)[\w.\-:/@#+%~$,]*\d[\w.\-:/@#+%~$,]*")
_HOST_OR_EMAIL = re.compile(rf"(?:{dict(_CLASSES)['host']})|(?:{dict(_CLASSES)['email']})")
_MAY_HOLD_VARIABLE = re.compile(r"[\d/\\@]|\.[a-z]")
_QUOTED = re.compile(r"(?<![\w'\"\\])(?:\"[^\"\n]*\"|'[^'\n]*')(?![\w'\"])")
_WILDCARD_RUN = re.compile(r"<\*>(?:[\s,;:]*<\*>)+")

_TRAILING = ",;.:)]}"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MONTHS = _words("Jan Feb Mar Apr May Jun Jul Aug Sep Sept Oct Nov Dec")
_WEEKDAYS = _words("Mon Tue Wed Thu Fri Sat Sun")
# Scaled units: which one a number carries depends on its size (`93 B`, `1.2 MB`), so the unit
# is part of the value. Base units (`bytes`, `seconds`, `ms`) are words the message always says.
_UNITS = _words("B KB MB GB TB PB KiB MiB GiB TiB PiB")
# Every spelling of a context word a token may carry (`KB,`, `Jul.`), to test cheaply whether
# a message needs the context pass at all.
_CONTEXT_WORDS = frozenset(
    f"{word}{tail}" for word in _MONTHS | _WEEKDAYS | _UNITS for tail in ("", *_TRAILING)
)
_CACHE_SIZE = 1 << 16


def _quoted(match: re.Match[str]) -> str:
    """A quoted value (one token, or a structure such as a JSON object) is one variable; a
    quoted phrase is words like any other (`"GET /a HTTP/1.1"` keeps its `GET`)."""
    inner = match.group(0)[1:-1].strip()
    if not inner or inner[0] in "{[" or not any(c.isspace() for c in inner):
        return WILDCARD
    return match.group(0)


def _replace(match: re.Match[str]) -> str:
    _state.by_classes = True
    return _variable(match.group(0))


class _State:
    """What masking the current token did: whether the full alternation of classes ran (the
    one path whose result can depend on how many digits a run has: an IPv4 octet has three)."""

    by_classes = False
    generation = 0  # how many times the token cache was cleared


_state = _State()


def _variable(text: str) -> str:
    # Keep the punctuation around a value (a trailing colon or comma, a leading `#`) so
    # `port 80:` and `port 81:` still share the literal `:`.
    start = len(text) - len(text.lstrip(".:#@+"))
    end = len(text.rstrip(".:#@+,"))
    if start >= end:
        return text
    return f"{text[:start]}{WILDCARD}{text[end:]}"


def mask_token(token: str) -> str:
    """Mask one whitespace-free token.

    Most tokens take a cheap path: a number, a word with nothing variable-looking, or one value
    (with a `key=` or `key:` kept) inside brackets and punctuation. Only odd mixtures go through
    the full alternation of classes, which is much slower per token.
    """
    if token.isdigit():
        return WILDCARD
    if _MAY_HOLD_VARIABLE.search(token) is None:
        return token
    start = len(token) - len(token.lstrip(_WRAP_HEAD))
    end = len(token.rstrip(_WRAP_TAIL))
    core = token[start:end]
    if core.isdigit():
        return f"{token[:start]}{WILDCARD}{token[end:]}"
    if start >= end or not _SIMPLE_CORE.isdisjoint(core):
        return _TOKEN_PATTERN.sub(_replace, token)  # nested brackets, Windows paths
    return f"{token[:start]}{_mask_core(core)}{token[end:]}"


def _mask_core(core: str) -> str:
    if "://" in core:
        return WILDCARD if _URL_OR_PATH.fullmatch(core) else _TOKEN_PATTERN.sub(_replace, core)
    keyed = _KEYED.fullmatch(core) if ("=" in core or ":" in core) else None
    if keyed is not None:
        key, value = keyed.groups()
        if key.endswith(":") and "." in key and value.isdigit():
            return WILDCARD  # `name.domain:port` is an address, not a key and its value
        return f"{key}{_mask_core(value)}"
    if _PLAIN_VARIABLE.fullmatch(core):
        return WILDCARD if core[0].isalnum() and core[-1].isalnum() else _variable(core)
    if core.startswith(_PATH_STARTS):
        return WILDCARD if _URL_OR_PATH.fullmatch(core) else _TOKEN_PATTERN.sub(_replace, core)
    if _HOST_OR_EMAIL.fullmatch(core):
        return WILDCARD
    return _TOKEN_PATTERN.sub(_replace, core)


def clear_cache() -> None:
    """Forget the masked tokens remembered so far (for fair timing; masking is unchanged)."""
    _cache.clear()
    _by_classes.clear()
    _state.generation += 1


class _TokenCache(dict[str, str]):
    """Masked form of each token seen recently; cleared when full, to bound memory."""

    def __missing__(self, token: str) -> str:
        if token.isdigit():  # a number: cheap to mask, and rarely seen twice
            return WILDCARD
        if len(self) >= _CACHE_SIZE:
            self.clear()
            _by_classes.clear()
            _state.generation += 1
        _state.by_classes = False
        masked = self[token] = mask_token(token)
        if _state.by_classes:
            _by_classes.add(token)
        return masked


_by_classes: set[str] = set()  # cached tokens masked by the full alternation of classes


_cache = _TokenCache()


def _is_variable(token: str) -> bool:
    return token.rstrip(_TRAILING) == WILDCARD


def _apply_context(masked: list[str], tokens: list[str]) -> list[str]:
    """Fold units into the number before them and mask calendar words next to a day number."""
    spots = [i for i, token in enumerate(tokens) if token in _CONTEXT_WORDS]
    dropped: set[int] = set()
    last = len(masked) - 1
    for index in spots:
        token = masked[index]
        word = token.rstrip(_TRAILING)
        tail = token[len(word) :]
        if word in _UNITS:
            if index and masked[index - 1] == WILDCARD:
                masked[index - 1] = WILDCARD + tail
                dropped.add(index)
            continue
        following = masked[index + 1] if index < last else ""
        if _is_variable(following) or (
            word in _WEEKDAYS and following.rstrip(_TRAILING) in _MONTHS
        ):
            masked[index] = WILDCARD + tail
    if dropped:
        return [token for index, token in enumerate(masked) if index not in dropped]
    return masked


def mask_tokens(message: str) -> list[str]:
    """The tokens of `message` with every recognised variable replaced by `<*>`."""
    if "'" in message or '"' in message:
        message = _QUOTED.sub(_quoted, message)
    tokens = message.split()
    masked = list(map(_cache.__getitem__, tokens))
    if not _CONTEXT_WORDS.isdisjoint(tokens):
        masked = _apply_context(masked, tokens)
    return masked


def digit_skeleton(message: str) -> bytes:
    """`message` (as UTF-8) with every ASCII digit but 0 written as 1.

    No masking rule looks at which digit a character is, only at where digits are (the one
    literal digit in a rule is the `0` of `0x`), so two messages with the same skeleton mask
    alike, up to the digits that survive masking. Logs repeat their messages with new numbers:
    masking one message serves every message of its skeleton whose masked text keeps no digit
    (the template miner remembers messages by skeleton). Bytes, because translating bytes
    costs a tenth of translating text."""
    return message.encode("utf-8", "surrogatepass").translate(_SKELETON)


_SKELETON = bytes.maketrans(b"23456789", b"11111111")


def mask(message: str) -> str:
    """Return `message` with every recognised variable replaced by `<*>`, single-spaced."""
    return " ".join(mask_tokens(message))


def mask_checked(message: str) -> tuple[str, bool]:
    """`mask(message)`, and whether every message of its run skeleton (`run_skeleton`: the
    same message but for how long and which its digit runs are) masks the same.

    It does unless a token with digits went through the full alternation of classes, whose
    classes count digits (an IPv4 octet has at most three); every other rule looks only at
    where digits are. Logs repeat messages with ids and counts of every length: one masking
    then serves them all."""
    generation = _state.generation
    if "'" in message or '"' in message:
        message = _QUOTED.sub(_quoted, message)
    tokens = message.split()
    masked = list(map(_cache.__getitem__, tokens))
    if not _CONTEXT_WORDS.isdisjoint(tokens):
        masked = _apply_context(masked, tokens)
    same = generation == _state.generation and _by_classes.isdisjoint(tokens)
    return " ".join(masked), same


_RUNS = re.compile(rb"[01]+")


def run_skeleton(skeleton: bytes) -> bytes:
    """A `digit_skeleton` with every run of digits written as one `1`."""
    return _RUNS.sub(b"1", skeleton)


def canonical(message: str) -> str:
    """A masked form suited to fingerprints: adjacent wildcards collapse into one.

    Two messages that differ only in how many variable tokens they carry (a list of ids, a
    multi-word value) get the same canonical text. It depends on the message alone.
    """
    return _WILDCARD_RUN.sub(WILDCARD, mask(message))
