"""Masking: each class of variable becomes `<*>`, and nothing else does."""

from __future__ import annotations

import random

import pytest

from ops_monitor.analysis.masking import (
    canonical,
    digit_skeleton,
    mask,
    mask_checked,
    mask_token,
    run_skeleton,
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("retry 3 of 10", "retry <*> of <*>"),
        ("took 15ms and 2.5s", "took <*> and <*>"),
        ("wrote 64MB", "wrote <*>"),
        ("estimated size 5.2 KB, free 317.1 KB)", "estimated size <*>, free <*>)"),
        ("waited 3 seconds", "waited <*> seconds"),
        ("sent 93.0 B and 1.2 MB", "sent <*> and <*>"),
        ("offset -42 is negative", "offset <*> is negative"),
        ("register 0xdeadBEEF set", "register <*> set"),
        ("request 123e4567-e89b-12d3-a456-426614174000 done", "request <*> done"),
        ("peer 10.0.0.12:8080 closed", "peer <*> closed"),
        ("peer 192.168.1.1 closed", "peer <*> closed"),
        ("bind [::1]:443 and fe80::1ff:fe23:4567:890a", "bind <*> and <*>"),
        ("open /var/lib/app/state.db failed", "open <*> failed"),
        ("open C:\\Temp\\x.log failed", "open <*> failed"),
        ("GET https://api.example.com/v1/items?id=7 ok", "GET <*> ok"),
        ("mail to ops@example.com", "mail to <*>"),
        ("user 'jane' not found", "user <*> not found"),
        ('body \'{"a": 1, "b": [2]}\' rejected', "body <*> rejected"),
        ('10.0.0.1 "GET /v2/items HTTP/1.1" 200', '<*> "GET <*> HTTP/<*>" <*>'),
        ("user 'jane doe' not found", "user 'jane doe' not found"),
        ("block blk_-6952295868487656571 stored", "block <*> stored"),
        ("attempt_1445144423722_0020_m_000000_0 started", "<*> started"),
        ("resolved db.internal and cdn.example.co", "resolved <*> and <*>"),
        ("at Sun Jul  3 10:05:25 2005 ok", "at <*> <*> <*> <*> <*> ok"),
        ("since Mar 14", "since <*> <*>"),
        ("uid=0 euid=0 tty=ssh", "uid=<*> euid=<*> tty=ssh"),
        ("lr:00004ed0 cr:28244842", "lr:<*> cr:<*>"),
        ("total = 42, boot = 7", "total = <*>, boot = <*>"),
        ("check operation......1", "check operation......<*>"),
    ],
)
def test_variables_are_masked(message: str, expected: str) -> None:
    assert mask(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "Can't find child in scoreboard",
        "May I have the config",
        "see setup.py and notes.md",
        "dfs.DataNode$PacketResponder: terminating",
        "Registered signal handlers for [TERM, HUP, INT]",
        "Changing view acls to: yarn,curi",
    ],
)
def test_constant_text_is_kept(message: str) -> None:
    assert mask(message) == " ".join(message.split())


def test_masking_does_not_depend_on_what_came_before() -> None:
    messages = [f"job {i} on host{i % 7}.example.com took {i * 3}ms" for i in range(300)]
    first = [mask(m) for m in messages]
    shuffled = messages[:]
    random.Random(7).shuffle(shuffled)
    again = {m: mask(m) for m in shuffled}
    assert [again[m] for m in messages] == first


def test_a_token_masks_the_same_alone_or_in_a_message() -> None:
    assert mask_token("12") == "<*>"
    assert mask_token("plain") == "plain"
    assert mask_token("port=8080,") == "port=<*>,"


def test_canonical_collapses_runs_of_variables() -> None:
    assert canonical("ids 1 2 3 done") == canonical("ids 4, 5 done") == "ids <*> done"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("www.example.com:443 close", "<*> close"),
        ("db.internal:5432, cache-1.internal:6379 up", "<*>, <*> up"),
        ("retry key:12 then Foo.java:42", "retry key:<*> then <*>"),
        ("mode a.b:c kept", "mode a.b:c kept"),
    ],
)
def test_an_address_with_a_port_is_one_variable(message: str, expected: str) -> None:
    assert mask(message) == expected


def test_messages_with_the_same_digit_skeleton_mask_alike() -> None:
    rng = random.Random(12)
    shapes = [
        "job {} took {}.{}s on node-{}",
        "peer {}.{}.{}.{}:{} sent 0x{}ff",
        "at {}:{}:{} wrote {} KB to /srv/{}/data",
        "user{} logged in {} times",
    ]
    swap = str.maketrans("123456789", "987654321")  # keeps every 0 and every digit's place
    for shape in shapes:
        for _ in range(50):
            parts = [str(rng.randint(1, 9999)) for _ in range(shape.count("{}"))]
            first, second = shape.format(*parts), shape.format(*(p.translate(swap) for p in parts))

            assert digit_skeleton(first) == digit_skeleton(second)
            assert mask(second) == mask(first)
            assert not any(c.isdigit() for c in mask(first))


def test_messages_that_differ_in_digit_runs_mask_alike_when_masking_says_so() -> None:
    rng = random.Random(21)
    shapes = [
        "peer {}.{}.{}.{}:{} closed",
        "bind [{}.{}.{}.{}]:{} and [::{}]",
        "block blk_-{} of size {} from /{}.{}.{}.{}:{}",
        "at {}:{}:{} wrote {} KB, id={} ({}ms)",
        "open /srv/{}/x_{}.log 0x{}ff v{}.{} #{}",
        "{}.{}.{}.{}]:{}",
    ]
    for shape in shapes:
        for _ in range(60):
            count = shape.count("{}")
            first = shape.format(
                *(str(rng.randint(0, 10 ** rng.randint(1, 6))) for _ in range(count))
            )
            second = shape.format(
                *(str(rng.randint(0, 10 ** rng.randint(1, 6))) for _ in range(count))
            )
            masked, same = mask_checked(first)

            assert masked == mask(first)
            if same and run_skeleton(digit_skeleton(first)) == run_skeleton(digit_skeleton(second)):
                assert mask(second) == masked, (first, second)


def test_a_token_masked_by_the_classes_that_count_digits_is_flagged() -> None:
    assert mask_checked("bind [10.0.0.1]:80 now") == ("bind [<*>]:<*> now", False)
    assert mask_checked("peer 10.0.0.1:80 now") == ("peer <*> now", True)
