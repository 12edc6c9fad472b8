"""The shortcuts of masking and mining give exactly what the long way gives, on generated input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_monitor.analysis import masking
from ops_monitor.analysis.masking import WILDCARD, digit_skeleton, mask, mask_checked, mask_token
from ops_monitor.analysis.templates import TemplateMiner, _root, label_all

# Pieces of what the classes of variables look for (top-level domains, `0x`, `://`, hex words),
# single characters they look at, digits (one of them not ASCII) and the brackets and
# punctuation that wrap values.
_PIECES = (
    *"abfxXzAFZ019_٣é.:-/\\@#+%~$,;=()[]{}<>'\"!",
    *("com", "org", "io", "local", "0x", "://", "http", "C:", "dead", "beef", "10.0.0", "::"),
    *("user@", "deadbeef-dead-beef-dead-beefdeadbeef", "/var/log"),
)
tokens = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=16).map("".join)
words = st.text(alphabet="abcxyzXABZ0123456789._:-/=#@()", min_size=1, max_size=12)
messages = st.lists(words, min_size=0, max_size=8).map(" ".join)


def _full_alternation(text: str) -> tuple[str, bool]:
    masking._state.by_classes = False
    result = masking._TOKEN_PATTERN.sub(masking._replace, text)
    return result, masking._state.by_classes


def _slow_mask_token(token: str) -> str:
    """`mask_token` without its shortcuts: every class in the alternation, and every token
    with a core through `_mask_core`."""
    if token.isdigit():
        return WILDCARD
    if masking._MAY_HOLD_VARIABLE.search(token) is None:
        return token
    start = len(token) - len(token.lstrip(masking._WRAP_HEAD))
    end = len(token.rstrip(masking._WRAP_TAIL))
    core = token[start:end]
    if core.isdigit():
        return f"{token[:start]}{WILDCARD}{token[end:]}"
    if start >= end or not masking._SIMPLE_CORE.isdisjoint(core):
        return masking._TOKEN_PATTERN.sub(masking._replace, token)
    return f"{token[:start]}{_slow_mask_core(core)}{token[end:]}"


def _slow_mask_core(core: str) -> str:
    original = masking._by_classes_sub
    masking._by_classes_sub = lambda text: masking._TOKEN_PATTERN.sub(masking._replace, text)
    try:
        return masking._mask_core(core)
    finally:
        masking._by_classes_sub = original


@settings(max_examples=400, deadline=None)
@given(tokens)
def test_the_alternation_of_possible_classes_finds_what_every_class_finds(text: str) -> None:
    expected, expected_flag = _full_alternation(text)
    masking._state.by_classes = False

    assert masking._by_classes_sub(text) == expected
    assert masking._state.by_classes == expected_flag


@settings(max_examples=400, deadline=None)
@given(tokens)
def test_a_token_masks_as_without_shortcuts(token: str) -> None:
    assert mask_token(token) == _slow_mask_token(token)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="abzAZ_é٣", max_size=10),
    st.sampled_from("0123456789٣"),
    st.text(alphabet="abzAZ_é٣0123456789", max_size=10),
    st.sampled_from(["", "(", "[", "<{"]),
    st.sampled_from(["", ")", "],", ".", ":", ">;"]),
)
def test_word_characters_around_a_digit_are_one_variable(
    before: str, digit: str, after: str, head: str, tail: str
) -> None:
    token = f"{head}{before}{digit}{after}{tail}"

    assert mask_token(token) == _slow_mask_token(token) == f"{head}{WILDCARD}{tail}"


def _redigit(message: str, digits: list[int]) -> str:
    """`message` with each ASCII digit replaced by the next of `digits` (cycled)."""
    found = iter(range(10**6))
    return re.sub(r"[0-9]", lambda m: str(digits[next(found) % len(digits)]), message)


@settings(max_examples=300, deadline=None)
@given(messages, st.lists(st.integers(0, 9), min_size=1, max_size=6))
def test_messages_of_one_digit_skeleton_mask_alike(message: str, digits: list[int]) -> None:
    other = _redigit(message, digits)
    if digit_skeleton(other) != digit_skeleton(message):
        return  # a 0 of `0x` changed, or a new `0x` appeared: the skeletons tell them apart
    masked, _ = mask_checked(message)
    if re.search(r"[0-9]", masked):
        return  # digits that survive masking are not promised to be alike

    assert mask(other) == masked


def test_a_zero_before_x_keeps_the_skeletons_apart() -> None:
    assert digit_skeleton("reg 0x1f") != digit_skeleton("reg 1x1f")
    assert digit_skeleton("retry 10 of 30") == digit_skeleton("retry 19 of 35")
    assert digit_skeleton("REG 0X1F") != digit_skeleton("REG 1X1F")


@settings(max_examples=100, deadline=None)
@given(st.lists(messages, min_size=1, max_size=40))
def test_label_all_labels_as_learning_one_message_at_a_time(stream: list[str]) -> None:
    masking.clear_cache()
    online = TemplateMiner()
    ids = [online.match(message).template_id for message in stream]
    online.consolidate()
    texts = {match.template_id: match.template for match in online.templates()}
    expected = [(online.resolve(i), texts[online.resolve(i)]) for i in ids]
    masking.clear_cache()

    assert [(m.template_id, m.template) for m in label_all(stream)] == expected


hex_words = st.sampled_from(
    ["reg", "0x1f", "1x1f", "0X10", "9X10", "a[0xff.q]", "a[1xff.q]", "a[0Xff.q]", "at", "0", "x"]
)


def _labels_masking_every_message(stream: list[str]) -> list[tuple[str, str]]:
    """What `label_all` gives when no message is served from what an earlier one masked to."""
    masking.clear_cache()
    reference = TemplateMiner()
    clusters = [reference._learn_masked(mask(message)) for message in stream]
    reference.consolidate()
    masking.clear_cache()
    return [(_root(c).cluster_id, _root(c).template) for c in clusters]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(messages, st.lists(hex_words, max_size=5).map(" ".join)), max_size=40))
def test_remembering_messages_by_their_digits_changes_no_label(stream: list[str]) -> None:
    expected = _labels_masking_every_message(stream)

    assert [(m.template_id, m.template) for m in label_all(stream)] == expected


@pytest.mark.parametrize(
    "stream",
    [
        ["a[0xff.q]", "a[1xff.q]"],
        ["a[1xff.q]", "a[0xff.q]"],
        ["a[0Xff.q] b", "a[9Xff.q] b"],
        ["a[0xff.q]", "a[1xff.q]", "a[0xfe.q]", "a[2xfe.q]"],
        ["a[0xff.q] 1", "a[1xff.q] 1", "b 0", "a[1xff.q] 2", "a[0xff.q] 3"],
    ],
)
def test_a_zero_before_x_is_never_taken_for_another_digit(stream: list[str]) -> None:
    expected = _labels_masking_every_message(stream)

    assert [(m.template_id, m.template) for m in label_all(stream)] == expected
