"""Turn a Markdown plan (like the seed plan) into a readiness plan.

Plans are written for people: `## Phase` headings, `### 1.1` sections, `**Priority**:` lines,
numbered tasks with bullet notes, an execution order by day and a checkbox list of success
criteria. We read that structure with a real Markdown parser (markdown-it-py) rather than regular
expressions over lines, so lists, code spans and emphasis are understood the way a renderer does.

Nothing is dropped silently: every block the importer cannot place is kept, with its line, in the
plan's `unplaced` list.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from readiness.plan import (
    ChecksGate,
    CommandGate,
    CoverageGate,
    Criterion,
    Day,
    ManualGate,
    Phase,
    Plan,
    Priority,
    Step,
    Task,
)

_PATH = re.compile(
    r"^(?![@/])[\w.\-*/]+(?:/|\.(?:ts|tsx|js|jsx|mjs|cjs|json|jsonc|toml|ya?ml|md|sh|py|txt|sql))$"
)
_COMMAND_START = ("npm ", "pnpm ", "yarn ", "npx ", "make ", "nox ", "pytest", "python ", "uv ")
_LABEL = re.compile(r"^\*\*(?P<label>[^*]+)\*\*:\s*(?P<rest>.*)$", re.DOTALL)
_CHECKBOX = re.compile(r"^\[(?P<mark>[ xX])\]\s+(?P<text>.*)$", re.DOTALL)
_PHASE = re.compile(r"^Phase\s+(?P<number>\d+)\s*[:.\-]\s*(?P<title>.+)$", re.IGNORECASE)
_SECTION = re.compile(r"^(?P<number>\d+(?:\.\d+)+)\.?\s+(?P<title>.+)$")
_DAY = re.compile(r"^\*\*Day\s+(?P<day>\d+)(?:\s*-\s*(?P<last>\d+))?\*\*:\s*(?P<title>.+)$")
_DAY_TASKS = re.compile(r"\((?:Phase\s+)?(?P<refs>[\d.\-,\s]+)\)\s*$")
_BOLD_LEAD = re.compile(r"^\*\*(?P<title>[^*]+)\*\*\s*(?P<rest>.*)$", re.DOTALL)
_PERCENT = re.compile(r"(?P<pct>\d{1,3})\s*%")

# Criteria our rules can decide, recognised by what they talk about.
_RULE_TOPICS: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(r"ORCHESTRATOR_OPS_MONITOR|DB_OPS|direct DB", re.IGNORECASE), ["db-ops-access"]),
    (re.compile(r"syntax error", re.IGNORECASE), ["syntax-error"]),
    (re.compile(r"scheduled handler|cron handler", re.IGNORECASE), ["cron-handler"]),
    (re.compile(r"dependenc", re.IGNORECASE), ["missing-dependency"]),
    (re.compile(r"TypeScript|tsconfig|\bJSX\b", re.IGNORECASE), ["tsconfig-jsx"]),
]
_PRIORITIES = {p.value: p for p in Priority}


@dataclass
class _Block:
    """One top-level Markdown block: a heading, a paragraph or a whole list."""

    kind: str  # "heading", "paragraph", "list", "other"
    line: int
    level: int = 0
    text: str = ""
    items: list[str] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)
    item_parts: list[list[str]] = field(default_factory=list)  # each item's own text, then nested
    ordered: bool = False


@dataclass
class _Builder:
    name: str = "Imported plan"
    description: str | None = None
    phases: list[dict[str, Any]] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)
    criteria: list[Criterion] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    other_files: list[tuple[int, str]] = field(default_factory=list)

    def current_task(self) -> dict[str, Any] | None:
        if self.phases and self.phases[-1]["tasks"]:
            task: dict[str, Any] = self.phases[-1]["tasks"][-1]
            return task
        return None


def import_markdown(text: str) -> Plan:
    """Build a plan from Markdown text; see the module docstring for what is recognised."""
    builder = _Builder()
    section = "preamble"
    for block in _blocks(text):
        if block.kind == "heading":
            section = _on_heading(builder, block, section)
        elif section == "criteria" and block.kind == "list":
            _add_criteria(builder, block)
        elif section == "execution" and block.kind == "list":
            _add_days(builder, block)
        elif section == "files":
            _collect_other_files(builder, block)
        elif section == "task" and (task := builder.current_task()) is not None:
            _add_to_task(builder, task, block)
        elif section == "preamble" and block.kind == "paragraph" and builder.description is None:
            builder.description = block.text
        else:
            _leave(builder, block)
    return _finish(builder)


def _on_heading(builder: _Builder, block: _Block, section: str) -> str:
    title = block.text.strip()
    lowered = title.lower()
    if block.level == 1:
        builder.name = title
        return "preamble"
    if block.level == 2:
        if "success criteria" in lowered:
            return "criteria"
        if "execution order" in lowered:
            return "execution"
        if "files to modify" in lowered:
            return "files"
        match = _PHASE.match(title)
        number = match["number"] if match else str(len(builder.phases) + 1)
        builder.phases.append(
            {"id": f"phase-{number}", "title": match["title"] if match else title, "tasks": []}
        )
        return "phase"
    if block.level == 3 and section in {"phase", "task"} and builder.phases:
        match = _SECTION.match(title)
        phase = builder.phases[-1]
        task_id = match["number"] if match else f"{phase['id']}.{len(phase['tasks']) + 1}"
        phase["tasks"].append(
            {
                "id": task_id,
                "title": match["title"] if match else title,
                "files": [],
                "steps": [],
                "notes": [],
                "line": block.line,
            }
        )
        return "task"
    if section == "files":
        return "files"  # sub-headings inside "Files to Modify" group the same list
    _leave(builder, block)
    return section


def _add_to_task(builder: _Builder, task: dict[str, Any], block: _Block) -> None:
    if block.kind == "paragraph" and "\n**" in block.text:
        # `**Priority**: ...` and `**Owner**: ...` on consecutive lines form one paragraph in
        # Markdown; each labelled line is read on its own.
        for part in re.split(r"\n(?=\*\*[^*]+\*\*:)", block.text):
            _add_to_task(builder, task, _Block("paragraph", block.line, text=part))
        return
    if block.kind == "paragraph":
        label = _LABEL.match(block.text)
        if label is None:
            task["notes"].append(block.text)
            return
        name, rest = label["label"].strip().lower(), label["rest"].strip()
        if name == "priority":
            _set_priority(task, rest)
        elif name in {"file", "files", "script"}:
            found = _paths(rest)
            task["files"].extend(found)
            if not found:
                task["notes"].append(block.text)
        elif name in {"tasks", "steps"} and not rest:
            return
        elif name in {"task", "step"} or not rest:  # "**Task**: ..." is a step of its own
            task["steps"].append(
                {"title": _plain(rest or label["label"]), "files": _paths(rest), "notes": []}
            )
        else:  # "**Owner**: alice" and the like: what the task says about itself
            task["notes"].append(f"{label['label'].strip()}: {rest}")
            task["files"].extend(_paths(rest))
        return
    if block.kind == "list" and block.ordered:
        for item, parts in zip(block.items, block.item_parts, strict=True):
            own, nested = parts[0] if parts else item, parts[1:]
            bold = _BOLD_LEAD.match(own)
            title = bold["title"].strip() if bold else _plain(own)
            rest = bold["rest"].strip() if bold else ""
            notes = [text for text in (rest, *nested) if text and not _only_paths(text)]
            task["steps"].append({"title": title, "files": _paths(item), "notes": notes})
        return
    if block.kind == "list":
        target = task["steps"][-1] if task["steps"] else task
        for item in block.items:
            target["notes"].append(item)
            target["files"].extend(_paths(item))
        return
    _leave(builder, block)


def _set_priority(task: dict[str, Any], text: str) -> None:
    word, _, note = text.partition(" - ")
    priority = _PRIORITIES.get(word.strip().lower())
    if priority is None:
        task["notes"].append(f"Priority: {text}")
        return
    task["priority"] = priority
    if note.strip():
        task["priority_note"] = note.strip()


def _add_days(builder: _Builder, block: _Block) -> None:
    for line, item in zip(block.item_lines, block.items, strict=True):
        match = _DAY.match(item)
        if match is None:
            builder.unplaced.append(f"line {line}: execution order item: {item}")
            continue
        title = match["title"].strip()
        refs = _DAY_TASKS.search(title)
        tasks = _expand_refs(refs["refs"]) if refs else []
        builder.days.append(
            Day(
                day=int(match["day"]),
                last_day=int(match["last"]) if match["last"] else None,
                title=title[: refs.start()].strip() if refs else title,
                tasks=tasks,
            )
        )


def _expand_refs(refs: str) -> list[str]:
    """`1.1-1.3` -> 1.1, 1.2, 1.3; `2.1, 2.2` -> both."""
    found: list[str] = []
    for part in re.split(r"\s*,\s*", refs.strip()):
        first, _, last = part.partition("-")
        first, last = first.strip(), last.strip()
        if last and first.rsplit(".", 1)[0] == last.rsplit(".", 1)[0] and "." in first:
            prefix = first.rsplit(".", 1)[0]
            start, stop = int(first.rsplit(".", 1)[1]), int(last.rsplit(".", 1)[1])
            found.extend(f"{prefix}.{n}" for n in range(start, stop + 1))
        elif first:
            found.extend(x for x in (first, last) if x)
    return found


def _add_criteria(builder: _Builder, block: _Block) -> None:
    for line, item in zip(block.item_lines, block.items, strict=True):
        match = _CHECKBOX.match(item)
        text = match["text"].strip() if match else item
        title = _plain(text)
        gate, also = _gate_for(text)
        criterion_id = _unique_id(_slug(title), {c.id for c in builder.criteria})
        builder.criteria.append(Criterion(id=criterion_id, title=title, gate=gate, also=also))
        if match and match["mark"] in "xX":
            builder.unplaced.append(
                f"line {line}: criterion {criterion_id!r} was ticked in the source; "
                "a gate now decides it"
            )


def _gate_for(text: str) -> tuple[Any, list[Any]]:
    """A criterion's gates: our rules where they apply, its command, else a manual sign-off."""
    gates: list[Any] = []
    rules = [rule for topic, ids in _RULE_TOPICS if topic.search(text) for rule in ids]
    if rules:
        gates.append(ChecksGate(kind="checks", rules=rules))
    gates.extend(CommandGate(kind="command", argv=shlex.split(c)) for c in _commands(text))
    percent = _PERCENT.search(text)
    if not gates and percent and "coverage" in text.lower():
        glob = _coverage_glob(text)
        gates.append(
            CoverageGate(
                kind="coverage",
                report="coverage/coverage-summary.json",
                paths={glob: float(percent["pct"])},
            )
        )
    if not gates:
        gates.append(
            ManualGate(kind="manual", note="No rule or command decides this; sign it off.")
        )
    return gates[0], gates[1:]


def _coverage_glob(text: str) -> str:
    """The sources a coverage criterion names (`src/api/` -> `src/api/**`), else a guess."""
    for span in re.findall(r"`([^`]+)`", text):
        path = span.strip()
        if _PATH.match(path) or "*" in path:
            return f"{path.rstrip('/')}/**" if path.endswith("/") else path
    return "**/api/routes/**" if "route" in text.lower() else "**"


def _collect_other_files(builder: _Builder, block: _Block) -> None:
    if block.kind == "paragraph" and _LABEL.match(block.text):
        return  # a group label such as "**Critical Fixes**:"
    if block.kind != "list":
        _leave(builder, block)
        return
    builder.other_files.extend(zip(block.item_lines, block.items, strict=True))


def _finish(builder: _Builder) -> Plan:
    placed: dict[str, list[int]] = {}
    for day in builder.days:
        for order, ref in enumerate(day.tasks, 1):
            placed.setdefault(ref, [day.day, order])
    known_files = {
        path for phase in builder.phases for task in phase["tasks"] for path in _task_files(task)
    }
    for line, item in builder.other_files:
        paths = _paths(item)
        if not paths or not set(paths) <= known_files:
            builder.unplaced.append(f"line {line}: file to modify not in any task: {item}")
    phases = []
    for phase in builder.phases:
        tasks = []
        for task in phase["tasks"]:
            day_order = placed.get(task["id"])
            tasks.append(
                Task(
                    id=task["id"],
                    title=task["title"],
                    priority=task.get("priority", Priority.MEDIUM),
                    priority_note=task.get("priority_note"),
                    day=day_order[0] if day_order else None,
                    order=day_order[1] if day_order else None,
                    files=_task_files(task),
                    steps=[
                        Step(title=s["title"], files=_dedupe(s["files"]), notes=s["notes"])
                        for s in task["steps"]
                    ],
                    notes=task["notes"],
                )
            )
        phases.append(Phase(id=phase["id"], title=phase["title"], tasks=tasks))
    known_ids = {t.id for p in phases for t in p.tasks} | {p.id for p in phases}
    days = []
    for day in builder.days:
        unknown = [ref for ref in day.tasks if ref not in known_ids]
        if unknown:
            builder.unplaced.append(f"day {day.day}: refers to unknown sections {unknown}")
        days.append(day.model_copy(update={"tasks": [r for r in day.tasks if r in known_ids]}))
    return Plan(
        name=builder.name,
        description=builder.description,
        phases=phases,
        execution_order=days,
        criteria=builder.criteria,
        unplaced=builder.unplaced,
    )


def _task_files(task: dict[str, Any]) -> list[str]:
    return _dedupe([*task["files"], *(f for step in task["steps"] for f in step["files"])])


def _leave(builder: _Builder, block: _Block) -> None:
    text = block.text if block.kind != "list" else "; ".join(block.items)
    builder.unplaced.append(f"line {block.line}: {text}")


# ------------------------------------------------------------------------------- Markdown reading


def _blocks(text: str) -> list[_Block]:
    """Group markdown-it's flat token stream into top-level blocks with their first line."""
    tokens = MarkdownIt("commonmark").parse(text)
    lines = text.splitlines()
    blocks: list[_Block] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        line = token.map[0] + 1 if token.map else 0
        end = _closing(tokens, index)
        if token.type == "heading_open":
            blocks.append(
                _Block("heading", line, level=int(token.tag[1]), text=tokens[index + 1].content)
            )
        elif token.type == "paragraph_open":
            blocks.append(_Block("paragraph", line, text=tokens[index + 1].content))
        elif token.type in {"bullet_list_open", "ordered_list_open"}:
            items, item_lines, parts = _list_items(tokens[index + 1 : end])
            ordered = token.type == "ordered_list_open"
            blocks.append(
                _Block(
                    "list",
                    line,
                    items=items,
                    item_lines=item_lines,
                    item_parts=parts,
                    ordered=ordered,
                )
            )
        elif token.type != "hr":
            start, stop = token.map if token.map else (0, 0)
            source = " ".join(part.strip() for part in lines[start:stop]).strip()
            blocks.append(_Block("other", line, text=source or token.type))
        index = end + 1
    return blocks


def _closing(tokens: list[Token], index: int) -> int:
    if tokens[index].nesting != 1:
        return index
    depth = 0
    for position in range(index, len(tokens)):
        depth += tokens[position].nesting
        if depth == 0:
            return position
    return len(tokens) - 1  # pragma: no cover - markdown-it always closes what it opens


def _list_items(tokens: list[Token]) -> tuple[list[str], list[int], list[list[str]]]:
    """Each item's text and line; nested content is joined on so that nothing is lost. Also
    each item's parts: its own text first, then every nested paragraph or item on its own."""
    items: list[str] = []
    lines: list[int] = []
    parts: list[list[str]] = []
    depth = 0
    for token in tokens:
        if token.type == "list_item_open":
            depth += 1
            if depth == 1:
                items.append("")
                lines.append(token.map[0] + 1 if token.map else 0)
                parts.append([])
        elif token.type == "list_item_close":
            depth -= 1
        elif token.type in {"inline", "code_block", "fence"} and items:
            separator = " " if items[-1] else ""
            items[-1] += separator + token.content.strip()
            parts[-1].append(token.content.strip())
    return items, lines, parts


def _paths(text: str) -> list[str]:
    spans = re.findall(r"`([^`]+)`", text)
    return _dedupe([span.strip() for span in spans if _PATH.match(span.strip())])


def _only_paths(text: str) -> bool:
    """`(`src/a.ts`)`: a step's file reference, kept in its files rather than as a note."""
    return not re.sub(r"`[^`]+`|[()\s,;]", "", text) and bool(_paths(text))


def _commands(text: str) -> list[str]:
    spans = re.findall(r"`([^`]+)`", text)
    return [span.strip() for span in spans if span.strip().startswith(_COMMAND_START)]


def _plain(text: str) -> str:
    return re.sub(r"\*\*|__", "", text).strip()


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", re.sub(r"\([^)]*\)", "", title).lower())
    return "-".join(words[:6]) or "criterion"


def _unique_id(base: str, taken: set[str]) -> str:
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
