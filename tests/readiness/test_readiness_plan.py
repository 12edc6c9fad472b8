"""The plan model: valid plans load; invalid ones are rejected naming the line and the field."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

import readiness.plan as plan_module
from readiness.plan import (
    CommandGate,
    Plan,
    PlanError,
    find_plan,
    load_plan,
    parse_plan_yaml,
    plan_json_schema,
    schema_path,
)

WriteFile = Callable[[str, str], Path]

DOCSTRING_EXAMPLE = textwrap.dedent(
    (plan_module.__doc__ or "").split("Example (`readiness.yaml`)::")[1].split("Gate kinds")[0]
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan_yaml(text, "readiness.yaml")
    return caught.value.problems


def test_docstring_example_is_a_valid_plan() -> None:
    plan = parse_plan_yaml(DOCSTRING_EXAMPLE)

    assert [c.gate.kind for c in plan.criteria] == [
        "command",
        "checks",
        "coverage",
        "files",
        "monitor",
        "manual",
    ]
    assert isinstance(plan.criteria[0].gate, CommandGate)
    assert plan.criteria[0].gate.argv == ["npm", "run", "typecheck:all"]
    assert plan.task_ids() == ["1.1", "1.2"]


def test_yaml_round_trip_keeps_the_plan() -> None:
    plan = parse_plan_yaml(DOCSTRING_EXAMPLE)

    assert parse_plan_yaml(plan.to_yaml()) == plan


def test_unknown_key_names_field_and_line() -> None:
    text = "name: x\ncriteria:\n  - id: a\n    title: t\n    gate:\n      kind: checks\n"
    text += "      max_finding: 3\n"

    assert problems_of(text) == [
        "readiness.yaml:7: criteria[0].gate.max_finding: Extra inputs are not permitted"
    ]


def test_every_problem_is_reported_with_its_line() -> None:
    text = textwrap.dedent(
        """\
        name: x
        criteria:
          - id: a
            title: t
            gate: {kind: command, argv: []}
          - id: b
            title: t
            gate: {kind: bogus}
          - id: c
            title: t
            gate: {kind: coverage, report: c.json, total: 140}
        """
    )

    problems = problems_of(text)

    assert problems[0].startswith("readiness.yaml:5: criteria[0].gate.argv: List should have")
    assert problems[1].startswith("readiness.yaml:8: criteria[1].gate: Input tag 'bogus'")
    assert problems[2].startswith("readiness.yaml:11: criteria[2].gate.total: Input should be")


def test_missing_name_points_at_the_plan() -> None:
    assert problems_of("phases: []\n") == ["readiness.yaml:1: name: Field required"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: x\ncriteria:\n  - {id: a, title: t, gate: {kind: manual}}\n"
            "  - {id: a, title: u, gate: {kind: manual}}\n",
            "duplicate criterion id 'a'",
        ),
        (
            "name: x\nphases:\n  - id: p\n    title: P\n    tasks:\n      - {id: t1, title: T, "
            "depends_on: [zz]}\n",
            "depends on unknown task(s) ['zz']",
        ),
        (
            "name: x\nexecution_order:\n  - {day: 1, title: D, tasks: ['9.9']}\n",
            "day 1 lists unknown task(s) ['9.9']",
        ),
        (
            "name: x\nexecution_order:\n  - {day: 4, last_day: 3, title: D}\n",
            "last_day 3 is before day 4",
        ),
        (
            "name: x\ncriteria:\n  - {id: a, title: t, gate: {kind: manual}, after: [b]}\n",
            "runs after unknown ['b']",
        ),
        (
            "name: x\ncriteria:\n  - {id: a, title: t, gate: {kind: files}}\n",
            "a files gate needs `exist` or `fresh`",
        ),
    ],
)
def test_semantic_problems(text: str, expected: str) -> None:
    assert any(expected in problem for problem in problems_of(text))


def test_cross_reference_problems_are_all_reported_at_their_own_lines() -> None:
    text = textwrap.dedent(
        """\
        name: x
        phases:
          - id: p
            title: P
            tasks:
              - {id: t1, title: T, depends_on: [t2]}
              - {id: t2, title: T, depends_on: [t1]}
              - {id: t2, title: Again}
        execution_order:
          - {day: 1, title: D, tasks: [t1, t7]}
        criteria:
          - {id: a, title: A, gate: {kind: checks, rules: [db-ops-acess]}, after: [zz]}
          - {id: b, title: B, gate: {kind: manual}, after: [b]}
        """
    )

    problems = problems_of(text)

    assert problems == [
        "readiness.yaml:8: phases[0].tasks[2].id: duplicate task id 't2'",
        "readiness.yaml:10: execution_order[0].tasks[1]: day 1 lists unknown task(s) ['t7']",
        "readiness.yaml:12: criteria[0].after[0]: criterion 'a' runs after unknown ['zz']",
        "readiness.yaml:6: phases[0].tasks[0].depends_on: tasks depend on each other in a cycle: "
        "t1 -> t2 -> t1",
        "readiness.yaml:13: criteria[1].after: criteria run after each other in a cycle: b -> b",
        "readiness.yaml:12: criteria[0].gate.rules[0]: unknown rule 'db-ops-acess'; the rules "
        "are cron-handler, db-ops-access, missing-dependency, syntax-error, tsconfig-jsx",
    ]


def test_a_key_given_twice_is_refused_not_silently_replaced() -> None:
    text = textwrap.dedent(
        """\
        name: x
        criteria:
          - id: a
            title: A
            gate: {kind: checks, rules: [db-ops-access]}
            gate: {kind: manual, signed_off: {by: me, at: 2026-01-01}}
        """
    )

    assert problems_of(text) == [
        "readiness.yaml:6: criteria[0].gate: duplicate key 'gate' (the earlier value would be "
        "silently replaced)"
    ]


def test_a_plan_built_in_code_fails_on_its_first_cross_reference_problem() -> None:
    with pytest.raises(ValueError, match="duplicate criterion id 'a'"):
        Plan.model_validate(
            {
                "name": "x",
                "criteria": [{"id": "a", "title": t, "gate": {"kind": "manual"}} for t in "AB"],
            }
        )


def test_broken_yaml_names_the_line() -> None:
    problems = problems_of("name: x\ncriteria: [\n  - a: b\n")

    assert len(problems) == 1
    assert problems[0].startswith("readiness.yaml:3: invalid YAML")


def test_a_plan_must_be_a_mapping() -> None:
    assert "a plan is a mapping" in problems_of("- just\n- a list\n")[0]


def test_find_plan_prefers_readiness_yaml(write: WriteFile) -> None:
    yaml_file = write("repo/readiness.yaml", "name: from yaml\n")
    write("repo/pyproject.toml", "[tool.readiness.plan]\nname = 'from toml'\n")

    assert find_plan(yaml_file.parent) == yaml_file
    assert load_plan(yaml_file).name == "from yaml"


def test_plan_in_pyproject(write: WriteFile) -> None:
    pyproject = write(
        "repo/pyproject.toml",
        "[tool.readiness]\nselect = ['db-ops-access']\n\n[tool.readiness.plan]\nname = 'toml'\n"
        "[[tool.readiness.plan.criteria]]\nid = 'a'\ntitle = 'A'\ngate = {kind = 'manual'}\n",
    )

    assert find_plan(pyproject.parent) == pyproject
    plan = load_plan(pyproject)
    assert plan.name == "toml"
    assert plan.criteria[0].gate.kind == "manual"


def test_pyproject_errors_name_the_table_line(write: WriteFile) -> None:
    pyproject = write(
        "repo/pyproject.toml", "[project]\nname='p'\n\n[tool.readiness.plan]\nnam = 1\n"
    )

    with pytest.raises(PlanError) as caught:
        load_plan(pyproject)

    assert f"{pyproject} [tool.readiness.plan]:4: name: Field required" in caught.value.problems


def test_pyproject_errors_name_the_line_of_the_field(write: WriteFile) -> None:
    pyproject = write(
        "repo/pyproject.toml",
        "[tool.readiness.plan]\nname = 'p'\nversion = 7\n\n"
        "[[tool.readiness.plan.criteria]]\nid = 'a'\ntitle = 'A'\ngate = {kind = 'manual'}\n\n"
        "[[tool.readiness.plan.criteria]]\nid = 'b'\ntitle = 'B'\n"
        "gate = {kind = 'command', argv = []}\n",
    )

    with pytest.raises(PlanError) as caught:
        load_plan(pyproject)

    where = f"{pyproject} [tool.readiness.plan]"
    assert [p.split(": ")[0] for p in caught.value.problems] == [f"{where}:3", f"{where}:13"]


def test_pyproject_without_plan(write: WriteFile) -> None:
    pyproject = write("repo/pyproject.toml", "[tool.readiness]\nselect = []\n")

    with pytest.raises(PlanError, match=r"no readiness\.yaml and no"):
        find_plan(pyproject.parent)
    with pytest.raises(PlanError, match=r"no \[tool.readiness.plan\] table"):
        load_plan(pyproject)


def test_broken_pyproject_is_a_plan_error(write: WriteFile) -> None:
    pyproject = write("repo/pyproject.toml", "[tool\n")

    with pytest.raises(PlanError):
        find_plan(pyproject.parent)
    with pytest.raises(PlanError):
        load_plan(pyproject)


def test_missing_plan_file(write: WriteFile) -> None:
    folder = write("repo/x.txt", "").parent

    with pytest.raises(PlanError, match="no such plan file"):
        load_plan(folder / "readiness.yaml")


def test_published_schema_is_current_and_accepts_the_example() -> None:
    published = json.loads(schema_path("plan.schema.json").read_text(encoding="utf-8"))

    assert published == plan_json_schema()
    as_json = json.loads(json.dumps(yaml.safe_load(DOCSTRING_EXAMPLE), default=str))
    jsonschema.validate(as_json, published)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "criteria": [{"id": "a"}]}, published)


def test_plan_model_defaults() -> None:
    plan = Plan(name="empty")

    assert plan.version == 1
    assert plan.to_yaml() == "version: 1\nname: empty\n"
