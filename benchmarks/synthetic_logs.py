"""Labelled log types written for the template benchmark, with variable kinds Loghub-2k lacks.

Each type has its own header layout and a handful of events; an event is a message pattern with
`{kind}` slots, and every slot is filled with a fresh value of that kind for every line. The true
template of a line is its pattern with each slot written as `<*>`, so grouping and template
accuracy can be scored exactly. The kinds: key=value runs, host:port lists, long paths and URLs,
hex and base64 ids, quoted JSON fragments, multi-word values, bracketed thread names and dates
written in other languages. Nothing here is read by the miner; it only scores it.
"""

from __future__ import annotations

import base64
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

Value = Callable[[random.Random], str]

_WORDS = [
    "alpha",
    "bravo",
    "cedar",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lumen",
    "meadow",
    "nectar",
    "onyx",
    "prairie",
    "quartz",
    "raven",
    "sierra",
    "tundra",
    "umber",
    "velvet",
    "willow",
    "xenon",
    "yonder",
    "zephyr",
]
_FIRST = [
    "Ann",
    "Marie",
    "Bob",
    "Chen",
    "Dana",
    "Erik",
    "Fatima",
    "Gus",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
]
_LAST = [
    "Smith",
    "Okafor",
    "Larsen",
    "Ito",
    "Novak",
    "Rossi",
    "Dubois",
    "Haddad",
    "Kim",
    "Silva",
    "Berg",
    "Quinn",
]
_REASONS = (
    "connection reset by peer",
    "disk quota exceeded",
    "permission denied",
    "operation timed out waiting for lock",
    "invalid checksum",
    "no route to host",
    "certificate has expired",
)
_MONTHS = {
    "fr": [
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ],
    "de": [
        "Jan.",
        "Feb.",
        "März",
        "Apr.",
        "Mai",
        "Juni",
        "Juli",
        "Aug.",
        "Sept.",
        "Okt.",
        "Nov.",
        "Dez.",
    ],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
}
_THREADS = (
    "main",
    "Finalizer",
    "scheduler",
    "reaper",
    "http-nio-8080-exec-{n}",
    "pool-{n}-thread-{m}",
    "Thread-{n}",
    "kafka-consumer-{n}",
    "grpc-default-executor-{n}",
)


def _num(rng: random.Random, low: int = 0, high: int = 99_999) -> str:
    return str(rng.randint(low, high))


def _word(rng: random.Random) -> str:
    return rng.choice(_WORDS)


def _host(rng: random.Random) -> str:
    style = rng.randrange(3)
    if style == 0:
        return f"{_word(rng)}-{rng.randint(1, 40)}.{rng.choice(['internal', 'svc', 'corp'])}"
    if style == 1:
        return f"{_word(rng)}.{_word(rng)}.example.{rng.choice(['com', 'org', 'net'])}"
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def _host_port(rng: random.Random) -> str:
    return f"{_host(rng)}:{rng.choice([80, 443, 5432, 6379, 8080, 9092, rng.randint(1024, 65535)])}"


def _host_ports(rng: random.Random) -> str:
    return ",".join(_host_port(rng) for _ in range(rng.randint(1, 4)))


def _path(rng: random.Random) -> str:
    parts = [rng.choice(["srv", "var", "opt", "home", "data"])]
    parts += [_word(rng) for _ in range(rng.randint(1, 5))]
    suffix = rng.choice(["", "_" + _num(rng, 1, 99)])
    name = f"{_word(rng)}{suffix}.{rng.choice(['log', 'json', 'tar.gz', 'db'])}"
    return "/" + "/".join([*parts, name])


def _url(rng: random.Random) -> str:
    query = "&".join(
        f"{_word(rng)}={rng.choice([_word(rng), _num(rng)])}" for _ in range(rng.randint(0, 3))
    )
    path = "/".join(rng.choice([_word(rng), _num(rng)]) for _ in range(rng.randint(1, 4)))
    return f"https://{_host(rng)}/{path}" + (f"?{query}" if query else "")


def _hex(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([8, 12, 16, 32, 40])))


def _base64(rng: random.Random) -> str:
    raw = bytes(rng.randrange(256) for _ in range(rng.choice([9, 12, 16, 24])))
    return base64.b64encode(raw).decode("ascii")


def _token(rng: random.Random) -> str:
    """An opaque id of letters only, as session and trace ids sometimes are."""
    return "".join(rng.choice(string.ascii_letters) for _ in range(rng.choice([16, 20, 24])))


def _json(rng: random.Random) -> str:
    fields = [
        f'"{_word(rng)}": {rng.choice([_num(rng), chr(34) + _word(rng) + chr(34), "true", "null"])}'
        for _ in range(rng.randint(1, 3))
    ]
    return "'{" + ", ".join(fields) + "}'"


def _name(rng: random.Random) -> str:
    return " ".join([rng.choice(_FIRST) for _ in range(rng.randint(1, 2))] + [rng.choice(_LAST)])


def _reason(rng: random.Random) -> str:
    return rng.choice(_REASONS)


def _thread(rng: random.Random) -> str:
    return rng.choice(_THREADS).format(n=rng.randint(1, 64), m=rng.randint(1, 16))


def _local_date(language: str) -> Value:
    def value(rng: random.Random) -> str:
        day, month, year = (
            rng.randint(1, 28),
            rng.choice(_MONTHS[language]),
            rng.randint(2019, 2026),
        )
        return f"{day}. {month} {year}" if language == "de" else f"{day} {month} {year}"

    return value


def _any(rng: random.Random) -> str:
    """A value of no fixed kind: a word, a number or an id."""
    return rng.choice([_word, _num, _hex])(rng)


KINDS: dict[str, Value] = {
    "num": _num,
    "word": _word,
    "host": _host,
    "hostport": _host_port,
    "hostports": _host_ports,
    "path": _path,
    "url": _url,
    "hex": _hex,
    "b64": _base64,
    "token": _token,
    "json": _json,
    "name": _name,
    "reason": _reason,
    "thread": _thread,
    "any": _any,
    "date_fr": _local_date("fr"),
    "date_de": _local_date("de"),
    "date_es": _local_date("es"),
    "ms": lambda rng: f"{rng.randint(1, 9999)}ms",
}
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class LogType:
    """A synthetic log type: how its headers look and which events its messages come from."""

    name: str
    header: Callable[[random.Random], str]
    events: tuple[str, ...]


def _hms(rng: random.Random) -> str:
    return f"{rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}"


def _iso_header(rng: random.Random) -> str:
    level = rng.choice(["INFO", "WARN", "ERROR", "DEBUG"])
    day = f"2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"
    return f"{day}T{_hms(rng)}.{rng.randint(100, 999)}Z {level}"


def _pipe_header(rng: random.Random) -> str:
    component = rng.choice(["Sync_Engine", "StepCounter", "UploadMgr", "Auth_Core"])
    stamp = (
        f"2024{rng.randint(1, 12):02}{rng.randint(1, 28):02}-{_hms(rng)}:{rng.randint(100, 999)}"
    )
    return f"{stamp}|{component}|{rng.randint(1000, 99999)}|"


def _bracket_time_header(rng: random.Random) -> str:
    program = rng.choice(["svchost.exe", "agent", "updater.bin", "java"])
    return f"[{rng.randint(1, 12):02}.{rng.randint(1, 28):02} {_hms(rng)}] {program} -"


def _syslog_header(rng: random.Random) -> str:
    host = rng.choice(["edge-1", "edge-2", "store-a", "gw"])
    process = rng.choice(["nginx", "envoy", "haproxy"])
    return f"Oct {rng.randint(1, 28):>2} {_hms(rng)} {host} {process}[{rng.randint(100, 9999)}]:"


def _java_header(rng: random.Random) -> str:
    logger = rng.choice(["c.e.billing.Invoices", "c.e.auth.Tokens", "o.h.engine.Session"])
    level = rng.choice(["INFO ", "WARN ", "ERROR"])
    stamp = f"2024/05/{rng.randint(10, 28)} {_hms(rng)}.{rng.randint(100, 999)}"
    return f"{stamp} [{_thread(rng)}] {level} {logger} -"


def _german_header(rng: random.Random) -> str:
    level = rng.choice(["INFO", "FEHLER", "WARNUNG"])
    day = f"{rng.randint(10, 28)}.{rng.randint(10, 12)}.2024"
    return f"{day} {_hms(rng)},{rng.randint(100, 999)} {level}"


def _french_header(rng: random.Random) -> str:
    month = rng.choice(_MONTHS["fr"])
    return f"{rng.randint(1, 28)} {month} 2024 {_hms(rng)} {rng.choice(['srv-a', 'srv-b'])}"


def _epoch_header(rng: random.Random) -> str:
    node, level = rng.choice(["node-3", "node-17", "node-8"]), rng.choice(["I", "W", "E"])
    return f"{rng.randint(1_700_000_000, 1_800_000_000)} {node} {level}"


TYPES: tuple[LogType, ...] = (
    LogType(
        "KeyValue",
        _iso_header,
        (
            "request served user={word} tenant={any} status={num} took={ms}",
            "cache refill shard={num} region={word} keys={num}",
            "rate limit hit for user={any} region={word} retry_in={ms}",
            "job finished id={hex} queue={word} result=ok",
            "job finished id={hex} queue={word} result=failed error={reason}",
            "config reloaded from {path} keys={num}",
        ),
    ),
    LogType(
        "HostLists",
        _bracket_time_header,
        (
            "{hostport} open through proxy {hostport} HTTPS",
            "{hostport} close, {num} bytes sent, {num} bytes received, lifetime {num} sec",
            "connecting to brokers {hostports}",
            "cluster members changed: {hostports}",
            "{hostport} error : Could not connect through proxy {hostport} - {reason}",
            "resolved {host} to {host}",
        ),
    ),
    LogType(
        "PathsUrls",
        _syslog_header,
        (
            '{host} - - "GET {url} HTTP/1.1" {num} {num}',
            '{host} - - "POST {url} HTTP/1.1" {num} {num}',
            '{host} - - "DELETE {url} HTTP/1.1" {num} {num}',
            "upstream timed out while reading {url} from {hostport}",
            "open() {path} failed (2: No such file or directory)",
            "rotated {path} to {path}",
            "redirecting {url} to {url}",
            "client {host} sent invalid header while reading {url}",
        ),
    ),
    LogType(
        "OpaqueIds",
        _pipe_header,
        (
            "session {token} created for device {hex}",
            "upload chunk {b64} stored as {hex}",
            "token {b64} expired",
            "onStepChanged {num}",
            "trace {hex} span {hex} finished in {ms}",
            "session {token} closed",
        ),
    ),
    LogType(
        "JsonFragments",
        _java_header,
        (
            "event rejected body={json}",
            "publishing {json} to topic {word}",
            "schema check failed for {json}: missing field {word}",
            "received ack {num} for {json}",
            "flushed {num} events to {path}",
        ),
    ),
    LogType(
        "MultiWord",
        _german_header,
        (
            "customer {name} placed order {num}",
            "task {num} failed: {reason}",
            "user {name} changed password",
            "retrying {word} upload after {reason}",
            "account of {name} locked after {num} attempts",
            "shutdown requested by operator",
        ),
    ),
    LogType(
        "Threads",
        _epoch_header,
        (
            "thread [{thread}] blocked for {ms} on monitor {hex}",
            "thread [{thread}] started",
            "thread [{thread}] stopped after {num} tasks",
            "deadlock detected between [{thread}] and [{thread}]",
            "pool {word} resized to {num} threads",
        ),
    ),
    LogType(
        "LocalDates",
        _french_header,
        (
            "facture {num} émise le {date_fr}",
            "Abrechnung für {date_de} erstellt",
            "pago recibido el {date_es} por {num} EUR",
            "export terminé pour {date_fr}",
            "Sicherung vom {date_de} gelöscht",
            "backup window starts at {num}:{num}",
        ),
    ),
)


@dataclass(frozen=True)
class Generated:
    """Lines of one synthetic type with their messages, true event ids and true templates."""

    lines: list[str]
    contents: list[str]
    events: list[str]
    templates: list[str]


def generate(log_type: LogType, count: int, seed: int = 0) -> Generated:
    """`count` lines of `log_type`, the same for the same seed. Events are drawn with skewed
    frequencies (real logs have a few frequent events and a tail of rare ones)."""
    rng = random.Random(f"{log_type.name}:{seed}")
    weights = [1 / (rank + 1) for rank in range(len(log_type.events))]
    lines, contents, events, templates = [], [], [], []
    for _ in range(count):
        index = rng.choices(range(len(log_type.events)), weights)[0]
        pattern = log_type.events[index]
        message = _SLOT.sub(lambda slot: KINDS[slot.group(1)](rng), pattern)
        lines.append(f"{log_type.header(rng)} {message}")
        contents.append(message)
        events.append(f"E{index + 1}")
        templates.append(_SLOT.sub("<*>", pattern))
    return Generated(lines, contents, events, templates)
