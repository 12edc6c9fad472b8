"""Template ids are stable: across runs, processes and saved state."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ops_monitor.analysis.templates import TemplateMiner, label_all

MESSAGES = [
    "user ann logged in from 10.0.0.1",
    "disk /dev/sda1 is 91% full",
    "user bob logged in from 10.0.0.2",
    "payment 4411 failed: card declined",
    "user cy logged in from 10.0.0.3",
    "user dee logged in from 10.0.0.4",
    "payment 4412 failed: timeout after 30s",
]

SCRIPT = """
import json, sys
from ops_monitor.analysis.templates import label_all
print(json.dumps([m.template_id for m in label_all(json.loads(sys.stdin.read()))]))
"""


def _ids_in_child(seed: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps(MESSAGES),
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": seed, "PATH": ""},
        check=True,
        timeout=60,
    )
    result: list[str] = json.loads(done.stdout)
    return result


def test_ids_are_the_same_in_every_process() -> None:
    here = [m.template_id for m in label_all(MESSAGES)]

    assert _ids_in_child("1") == here
    assert _ids_in_child("2") == here


def test_ids_are_the_same_in_every_run() -> None:
    assert list(label_all(MESSAGES)) == list(label_all(MESSAGES))


def test_ids_come_from_content() -> None:
    first = TemplateMiner().match("cache warmed in 5ms")
    later = TemplateMiner()
    later.match("something unrelated happened")

    assert later.match("cache warmed in 7ms") == first


def test_saved_state_continues_as_if_never_stopped() -> None:
    whole = TemplateMiner()
    full = [whole.match(m) for m in MESSAGES]

    before = TemplateMiner()
    head = [before.match(m) for m in MESSAGES[:3]]
    after = TemplateMiner.from_json(before.to_json())
    tail = [after.match(m) for m in MESSAGES[3:]]

    assert head + tail == full
    assert after.to_json() == whole.to_json()


def test_a_full_rescan_with_saved_state_keeps_earlier_ids() -> None:
    incremental = TemplateMiner()
    for message in MESSAGES:
        incremental.match(message)
    first_ids = {incremental.resolve(incremental.match(m).template_id) for m in MESSAGES}

    rescanned = TemplateMiner.from_json(incremental.to_json())
    again = {rescanned.resolve(rescanned.match(m).template_id) for m in MESSAGES}

    assert again == first_ids
    assert rescanned.resolve(incremental.match(MESSAGES[0]).template_id) in again


def test_restored_state_resolves_merged_ids() -> None:
    miner = TemplateMiner()
    online = [miner.match(message).template_id for message in MESSAGES]
    merged_away = [i for i in online if miner.resolve(i) != i]

    restored = TemplateMiner.from_json(miner.to_json())

    assert merged_away
    assert [restored.resolve(i) for i in online] == [miner.resolve(i) for i in online]
    assert restored.templates() == miner.templates()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"version": 99, "settings": {}, "clusters": []}),
        json.dumps({"version": 1, "settings": {"bogus": 1}, "clusters": []}),
        json.dumps({"version": 1, "settings": {}, "clusters": [{"id": "a"}]}),
        json.dumps(
            {
                "version": 1,
                "settings": {},
                "clusters": [
                    {
                        "id": "a",
                        "tokens": [],
                        "order": 3,
                        "size": 1,
                        "live": True,
                        "merged_into": None,
                    }
                ],
            }
        ),
    ],
)
def test_a_bad_state_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match=r"state|order"):
        TemplateMiner.from_json(text)


def test_a_state_saved_before_the_crowd_setting_existed_restores_with_the_default() -> None:
    saved = json.loads(TemplateMiner().to_json())
    del saved["settings"]["crowd"]

    restored = TemplateMiner.from_json(json.dumps(saved))

    assert restored.settings.crowd == TemplateMiner().settings.crowd
