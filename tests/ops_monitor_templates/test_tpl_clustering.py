"""Clustering: which messages share a template, and which stay apart."""

from __future__ import annotations

import random

from ops_monitor.analysis.templates import MinerSettings, TemplateMatch, TemplateMiner, label_all

from .conftest import learn


def test_messages_that_differ_only_in_masked_values_share_a_template(
    miner: TemplateMiner,
) -> None:
    first = miner.match("worker 3 finished job 17 in 250ms")
    second = miner.match("worker 12 finished job 4 in 3s")

    assert first == second
    assert first.template == "worker <*> finished job <*> in <*>"


def test_a_differing_word_is_a_constant_until_it_shows_many_values(
    miner: TemplateMiner,
) -> None:
    stored = ["block 1 stored as bytes", "block 2 stored as values"]
    users = [f"session opened for user {name}" for name in ("ann", "bob", "cy", "dee", "eve")]

    stored_ids = learn(miner, stored)
    user_ids = learn(miner, users)

    assert stored_ids[0] != stored_ids[1]
    assert len(set(user_ids)) == 1
    assert miner.match(users[0]).template == "session opened for user <*>"


def test_three_values_are_not_yet_a_variable(miner: TemplateMiner) -> None:
    ids = learn(miner, [f"login refused user={name}" for name in ("root", "guest", "test")])

    assert len(set(ids)) == 3


def test_a_merged_key_value_keeps_its_key(miner: TemplateMiner) -> None:
    learn(miner, [f"denied user={name} ok" for name in ("ann", "bob", "cy", "dee")])

    assert miner.match("denied user=zed ok").template == "denied user=<*> ok"


def test_a_masked_value_shows_that_a_word_position_is_variable(miner: TemplateMiner) -> None:
    ids = learn(miner, ["invalid user webmaster from 1.2.3.4", "invalid user test9 from 5.6.7.8"])

    assert ids[0] == ids[1]
    assert miner.match("invalid user admin from 9.9.9.9").template == ("invalid user <*> from <*>")


def test_short_messages_do_not_collapse_into_all_variables(miner: TemplateMiner) -> None:
    messages = ["generating core.12", "store x.1", "launching task_1_2", "killing attempt_3"]

    ids = learn(miner, messages)

    assert len(set(ids)) == len(messages)


def test_an_all_variable_template_only_takes_its_own_shape(miner: TemplateMiner) -> None:
    numbers = miner.match("12 34")

    assert miner.match("56 78") == numbers
    assert miner.match("cache 90") != numbers


def test_an_empty_value_joins_the_template_of_a_filled_one(miner: TemplateMiner) -> None:
    ids = learn(
        miner,
        [
            "connection from 10.1.1.1 (h1.example.com) at 10:00",
            "connection from 10.1.1.2 () at 11:00",
        ],
    )

    assert ids[0] == ids[1]
    assert miner.match("connection from 10.1.1.3 () at 12:00").template == (
        "connection from <*> (<*>) at <*>"
    )


def test_a_template_widens_when_a_later_message_fills_an_empty_value(
    miner: TemplateMiner,
) -> None:
    first = miner.match("connection from 10.1.1.2 () at 11:00")
    second = miner.match("connection from 10.1.1.1 (h1.example.com) at 10:00")

    assert first.template_id == second.template_id
    assert second.template == "connection from <*> (<*>) at <*>"


def test_lists_of_different_lengths_share_a_template(miner: TemplateMiner) -> None:
    ids = learn(miner, ["evicting keys 1 2 3 now", "evicting keys 4 5 now", "evicting keys 6 now"])

    assert len(set(ids)) == 1


def test_lookup_does_not_learn(miner: TemplateMiner) -> None:
    assert miner.lookup("disk 3 is full") is None
    learned = miner.match("disk 3 is full")

    assert miner.lookup("disk 4 is full") == learned
    assert miner.lookup("something else entirely") is None
    assert miner.templates() == [learned]


def test_an_absorbed_template_id_resolves_to_the_survivor(miner: TemplateMiner) -> None:
    first = miner.match("user ann logged out").template_id
    for name in ("bob", "cy", "dee"):
        miner.match(f"user {name} logged out")

    survivor = miner.match("user eve logged out").template_id

    assert miner.resolve(first) == survivor
    assert miner.resolve("unknown-id") == "unknown-id"


def test_label_all_gives_every_line_its_final_template_in_order() -> None:
    names = ("ann", "bob", "cy", "dee")
    messages = [f"user {name} logged out" for name in names] + ["disk 1 is full"]

    labels = list(label_all(messages))

    assert [m.template for m in labels] == ["user <*> logged out"] * 4 + ["disk <*> is full"]
    assert len({m.template_id for m in labels[:4]}) == 1


def test_label_all_streams_more_lines_than_one_spool_chunk() -> None:
    count = (1 << 16) + 5
    messages = (f"tick {i}" if i % 2 else f"tock {i}" for i in range(count))

    labels = list(label_all(messages))

    assert len(labels) == count
    assert labels[-1] == TemplateMatch(labels[0].template_id, "tock <*>")
    assert labels[-2].template == "tick <*>"


def test_an_empty_message_has_a_template(miner: TemplateMiner) -> None:
    assert miner.match("").template == ""
    assert miner.match("   ") == miner.match("")


def test_the_miner_masks_like_the_masking_module(miner: TemplateMiner) -> None:
    assert miner.mask("took 15ms on 10.0.0.1:80") == "took <*> on <*>"


def test_small_caches_change_speed_not_results() -> None:
    messages = [f"user {name} logged out after {n}s" for n in range(3) for name in "abcdef"]
    tiny = TemplateMiner(MinerSettings(exact_cache_size=2))

    assert learn(tiny, messages) == learn(TemplateMiner(), messages)


def test_several_words_varying_together_merge_with_enough_combinations(
    miner: TemplateMiner,
) -> None:
    rng = random.Random(11)
    pairs = [(rng.choice(FIRST), rng.choice(LAST)) for _ in range(12)]
    messages = [f"order placed by {first} {last} today" for first, last in pairs]

    ids = learn(miner, messages)

    assert len(set(ids)) == 1
    assert miner.match(messages[0]).template == "order placed by <*> today"


def test_a_crowd_of_templates_gives_up_its_most_varied_positions(miner: TemplateMiner) -> None:
    rng = random.Random(5)
    messages = [
        f"login {rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}x ok done"
        for _ in range(60)
    ]

    ids = learn(miner, messages)

    assert len(set(ids)) == 1
    assert miner.match(messages[-1]).template == "login <*> ok done"


FIRST = ("ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lou")
LAST = ("smith", "jones", "brown", "lee", "khan", "diaz", "wong", "berg", "rossi", "novak")


def test_a_multi_word_value_reads_as_one_variable() -> None:
    rng = random.Random(8)
    names = [
        " ".join([*rng.sample(FIRST, rng.randint(1, 2)), rng.choice(LAST)]) for _ in range(200)
    ]

    labels = list(label_all(f"user {name} changed password" for name in names))

    assert {m.template for m in labels} == {"user <*> changed password"}


def test_the_second_pass_folds_templates_left_beside_a_general_one() -> None:
    rng = random.Random(3)
    messages = [
        f"request served user={rng.choice(FIRST)} tenant={rng.choice(LAST)} status={n}"
        for n in range(60)
    ]
    online = TemplateMiner()
    online_ids = learn(online, messages)

    labels = list(label_all(messages))

    assert len(set(online_ids)) > 1  # online, early templates stay beside the general one
    assert {m.template for m in labels} == {"request served user=<*> tenant=<*> status=<*>"}
    assert len({m.template_id for m in labels}) == 1


def test_consolidating_keeps_earlier_ids_resolvable() -> None:
    rng = random.Random(3)
    messages = [f"order {n} by user={rng.choice(FIRST)} from={rng.choice(LAST)}" for n in range(60)]
    miner = TemplateMiner()
    ids = [miner.match(m).template_id for m in messages]

    miner.consolidate()

    assert len({miner.resolve(i) for i in ids}) == len(miner.templates()) == 1


def test_settings_are_kept_with_the_saved_state() -> None:
    miner = TemplateMiner(MinerSettings(variable_after=6, crowd=16))
    miner.match("disk 3 is full")

    assert TemplateMiner.from_json(miner.to_json()).settings == MinerSettings(6, crowd=16)
