"""cron-handler: wrangler triggers.crons against the crons the scheduled handler compares."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.registry import get_rule

from .conftest import MakeRepo, audit_rule, run_rule, tracked_files, where

TOML = """\
name = "orchestrator"
main = "worker/index.ts"

[triggers]
crons = ["0 2 * * *", "0 */4 * * *"]
"""

BOTH_BRANCHES = """\
export default {
  async scheduled(event: ScheduledEvent, env: Env, ctx: ExecutionContext) {
    if (event.cron === '0 2 * * *') {
      ctx.waitUntil(full(env));
    } else if (event.cron === "0 */4 * * *") {
      ctx.waitUntil(incremental(env));
    }
  },
} satisfies ExportedHandler<Env>;
"""


def test_matching_triggers_and_branches_are_fine(make_repo: MakeRepo) -> None:
    root = make_repo({"wrangler.toml": TOML, "worker/index.ts": BOTH_BRANCHES})

    assert audit_rule(root, "cron-handler") == []


def test_configured_cron_without_branch_is_reported_at_the_config(make_repo: MakeRepo) -> None:
    handler = BOTH_BRANCHES.replace("'0 2 * * *'", "'0 3 * * *'")
    root = make_repo({"wrangler.toml": TOML, "worker/index.ts": handler})

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [("worker/index.ts", 3), ("wrangler.toml", 5)]
    assert "'0 2 * * *' has no branch" in findings[1].message
    assert findings[1].column == 10
    assert "compares '0 3 * * *', which no trigger" in findings[0].message


def test_switch_on_controller_cron_with_jsonc_config(make_repo: MakeRepo) -> None:
    config = """\
{
  // billing
  "main": "src/index.ts",
  "triggers": { "crons": ["*/15 * * * *", "30 1 * * *",], },
}
"""
    handler = """\
export default {
  async scheduled(controller, env, ctx) {
    switch (controller.cron) {
      case '*/15 * * * *':
        return invoices(env);
      case `30 1 * * *`:
        return archive(env);
    }
  },
};
"""
    root = make_repo({"wrangler.jsonc": config, "src/index.ts": handler})
    assert audit_rule(root, "cron-handler") == []

    (root / "wrangler.jsonc").write_text(config.replace('"30 1 * * *",', '"30 2 * * *",'))
    assert where(audit_rule(root, "cron-handler")) == [("src/index.ts", 6), ("wrangler.jsonc", 4)]


def test_named_scheduled_export_is_never_called(make_repo: MakeRepo) -> None:
    handler = """\
export const scheduled: ExportedHandlerScheduledHandler<Env> = async (controller, env, ctx) => {
  ctx.waitUntil(digest(env));
};
export default { fetch: () => new Response('ok') };
"""
    root = make_repo({"wrangler.toml": TOML, "worker/index.ts": handler})

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [("worker/index.ts", 1)]
    assert "exported by name" in findings[0].message


def test_default_export_without_scheduled_is_reported_at_the_crons(make_repo: MakeRepo) -> None:
    handler = "const app = { fetch: () => new Response('ok') };\nexport default app;\n"
    root = make_repo({"wrangler.toml": TOML, "worker/index.ts": handler})

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [("wrangler.toml", 5)]
    assert "no `scheduled` handler" in findings[0].message


def test_handlers_that_treat_every_cron_alike_or_are_built_elsewhere(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "a/wrangler.toml": TOML,
            "a/worker/index.ts": "export default { async scheduled(c, env) { await scan(env); } };",
            "b/wrangler.toml": TOML,
            "b/worker/index.ts": "import handler from './handler';\nexport default handler;\n",
            "c/wrangler.toml": TOML,
            "c/worker/index.ts": (
                "export default class extends WorkerEntrypoint {\n  async scheduled() {}\n}\n"
            ),
            "d/wrangler.toml": TOML,
            "d/worker/index.ts": "const base = {};\nexport default { ...base };\n",
            "e/wrangler.toml": TOML,
            "e/worker/index.ts": "class Worker {\n  scheduled() {}\n}\nexport default Worker;\n",
        }
    )

    assert audit_rule(root, "cron-handler") == []


PY_WORKER = "class Default(WorkerEntrypoint):\n    async def {method}(self, event):\n        pass\n"


def test_class_without_scheduled_and_python_workers(make_repo: MakeRepo) -> None:
    py_config = 'name = "py"\nmain = "src/worker.py"\n[triggers]\ncrons = ["0 1 * * *"]\n'
    root = make_repo(
        {
            "a/wrangler.toml": TOML,
            "a/worker/index.ts": (
                "export default class extends WorkerEntrypoint {\n  async fetch() {}\n}\n"
            ),
            "p/wrangler.toml": py_config,
            "p/src/worker.py": PY_WORKER.format(method="scheduled"),
            "q/wrangler.toml": py_config,
            "q/src/worker.py": PY_WORKER.format(method="fetch"),
        }
    )

    assert where(audit_rule(root, "cron-handler")) == [
        ("a/wrangler.toml", 5),
        ("q/wrangler.toml", 4),
    ]


def test_invalid_cron_expressions_are_reported(make_repo: MakeRepo) -> None:
    config = 'main = "w.ts"\n[triggers]\ncrons = [\n  "0 */6 * *",\n  "61 * * * *",\n]\n'
    root = make_repo({"wrangler.toml": config, "w.ts": "export default { scheduled() {} };\n"})

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [("wrangler.toml", 4), ("wrangler.toml", 5)]
    assert "Wrong number of fields" in findings[0].message
    assert "invalid cron expression '61 * * * *'" in findings[1].message


def test_environment_crons_count_and_broken_configs_are_skipped(make_repo: MakeRepo) -> None:
    config = TOML + '\n[env.staging.triggers]\ncrons = ["0 5 * * *"]\n'
    handler = BOTH_BRANCHES.replace(
        "} else if", "} else if (event.cron === '0 5 * * *') {\n    } else if"
    )
    root = make_repo(
        {
            "wrangler.toml": config,
            "worker/index.ts": handler,
            "broken/wrangler.toml": "name = \n",
            "nomain/wrangler.json": '{ "triggers": { "crons": ["0 1 * * *"] } }',
        }
    )

    assert audit_rule(root, "cron-handler") == []


def test_a_broken_handler_still_has_its_branches_compared(make_repo: MakeRepo) -> None:
    handler = BOTH_BRANCHES.replace("if (event.cron === '0 2 * * *') {", "if")
    root = make_repo({"wrangler.toml": TOML, "worker/index.ts": handler})

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [("wrangler.toml", 5)]
    assert "'0 2 * * *' has no branch" in findings[0].message


def test_branches_in_a_relatively_imported_handler_module_count(make_repo: MakeRepo) -> None:
    entry = "import { scheduled } from './scheduled.js';\nexport default { scheduled };\n"
    handler = BOTH_BRANCHES.replace(
        "export default {\n  async scheduled", "export const x = {\n  async scheduled"
    )
    handler = handler.replace("'0 2 * * *'", "'0 3 * * *'")
    root = make_repo(
        {"wrangler.toml": TOML, "worker/index.ts": entry, "worker/scheduled.ts": handler}
    )

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [("worker/scheduled.ts", 3), ("wrangler.toml", 5)]


def test_lookup_tables_keyed_by_cron(make_repo: MakeRepo) -> None:
    handler = """\
const JOBS: Record<string, (env: Env) => Promise<void>> = {
  '0 2 * * *': full,
  '0 */4 * * *': incremental,
  '0 5 * * *': cleanup,
};
export default {
  async scheduled(event, env, ctx) {
    ctx.waitUntil(JOBS[event.cron]?.(env));
  },
};
"""
    root = make_repo({"wrangler.toml": TOML, "worker/index.ts": handler})

    assert where(audit_rule(root, "cron-handler")) == [("worker/index.ts", 4)]


def test_python_workers_dispatching_on_the_cron(make_repo: MakeRepo) -> None:
    config = 'name = "py"\nmain = "src/worker.py"\n[triggers]\ncrons = ["0 2 * * *", "0 3 * * *"]\n'
    worker = """\
class Default(WorkerEntrypoint):
    async def scheduled(self, event, env, ctx):
        if event.cron == "0 2 * * *":
            await self.full()
        elif event.cron == f"{HOUR} 4 * * *":
            pass
        match event.cron:
            case '0 9 * * *':
                pass
"""
    root = make_repo({"wrangler.toml": config, "src/worker.py": worker})

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [("src/worker.py", 8), ("wrangler.toml", 4)]
    assert "'0 3 * * *' has no branch" in findings[1].message


FIVE_MINUTES = 'main = "w.ts"\n[triggers]\ncrons = ["*/5 * * * *", "0 0 * * *"]\n'


def test_an_else_branch_handles_every_other_cron(make_repo: MakeRepo) -> None:
    handler = """\
export default {
  async scheduled(event, env, ctx) {
    if (event.cron === '*/5 * * * *') {
      ctx.waitUntil(poll(env));
    } else {
      ctx.waitUntil(nightly(env));
    }
  },
};
"""
    chained = handler.replace(
        "} else {", "} else /* rare */ if (event.cron === '1 1 * * *') {\n    } else {"
    )
    root = make_repo(
        {
            "a/wrangler.toml": FIVE_MINUTES,
            "a/w.ts": handler,
            "b/wrangler.toml": FIVE_MINUTES,
            "b/w.ts": chained,
            "c/wrangler.toml": FIVE_MINUTES,
            "c/w.ts": handler.replace("} else {", "} else if (env.DEBUG) {"),
        }
    )

    assert where(audit_rule(root, "cron-handler")) == [
        ("b/w.ts", 5),  # a branch no trigger fires is still reported
        ("c/wrangler.toml", 3),  # `else if` without a final `else` handles nothing more
    ]


def test_a_switch_default_handles_every_other_cron(make_repo: MakeRepo) -> None:
    handler = """\
export default {
  async scheduled(controller, env, ctx) {
    switch (controller.cron) {
      case '*/5 * * * *':
        return poll(env);
      default:
        return nightly(env);
    }
  },
};
"""
    root = make_repo(
        {
            "a/wrangler.toml": FIVE_MINUTES,
            "a/w.ts": handler,
            "b/wrangler.toml": FIVE_MINUTES,
            "b/w.ts": handler.replace("      default:\n", ""),
        }
    )

    assert where(audit_rule(root, "cron-handler")) == [("b/wrangler.toml", 3)]


def test_python_else_and_wildcard_case_handle_every_other_cron(make_repo: MakeRepo) -> None:
    config = 'main = "w.py"\n[triggers]\ncrons = ["0 2 * * *", "0 3 * * *", "0 4 * * *"]\n'
    with_else = """\
class Default(WorkerEntrypoint):
    async def scheduled(self, event, env, ctx):
        if event.cron == "0 2 * * *":
            await self.full()
        else:
            await self.other()
"""
    with_wildcard = """\
class Default(WorkerEntrypoint):
    async def scheduled(self, event, env, ctx):
        match event.cron:
            case "0 2 * * *" | "0 3 * * *":
                pass
            case _:
                pass
"""
    root = make_repo(
        {
            "a/wrangler.toml": config,
            "a/w.py": with_else,
            "b/wrangler.toml": config,
            "b/w.py": with_wildcard,
            "c/wrangler.toml": config,
            "c/w.py": with_wildcard.replace("case _:", "case _ if ctx.debug:"),
        }
    )

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [("c/wrangler.toml", 3)]
    assert "'0 4 * * *' has no branch" in findings[0].message  # each of a union is a branch


def test_classes_extending_worker_entrypoint_with_type_arguments(make_repo: MakeRepo) -> None:
    def worker(declaration: str) -> str:
        return f"{declaration} {{\n  async fetch() {{ return new Response('ok'); }}\n}}\n"

    root = make_repo(
        {
            "a/wrangler.toml": TOML,
            "a/worker/index.ts": worker("export default class extends WorkerEntrypoint<Env>"),
            "b/wrangler.toml": TOML,
            "b/worker/index.ts": worker(
                "export default class Api extends cf.WorkerEntrypoint<Env, Props> implements X"
            ),
            "c/wrangler.toml": TOML,
            "c/worker/index.ts": worker("export default class Api implements Service"),
            "d/wrangler.toml": TOML,
            "d/worker/index.ts": worker("export default class extends Base<Env>"),
            "e/wrangler.toml": TOML,
            "e/worker/index.ts": worker(
                "export default class extends Mixin(WorkerEntrypoint)<Env>"
            ),
            "f/wrangler.toml": TOML,
            "f/worker/index.ts": (
                "export default class extends WorkerEntrypoint<Env> {\n"
                "  scheduled = async () => {};\n}\n"
            ),
            "g/wrangler.toml": TOML.replace(".ts", ".js"),
            "g/worker/index.js": (
                "export default class extends WorkerEntrypoint {\n"
                "  scheduled = async () => {};\n}\n"
            ),
        }
    )

    findings = audit_rule(root, "cron-handler")

    assert where(findings) == [
        ("a/wrangler.toml", 5),
        ("b/wrangler.toml", 5),
        ("c/wrangler.toml", 5),
    ]
    assert all("has no `scheduled` handler" in f.message for f in findings)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("wrangler.toml", 'main = 3\n[triggers]\ncrons = [1, "0 0 * * *", ["x"]]\n'),
        ("wrangler.toml", 'main = "w.ts"\ntriggers = [1]\nenv = "x"\n'),
        ("wrangler.toml", 'main = "w.ts"\n[triggers]\ncrons = "0 0 * * *"\n'),
        ("wrangler.toml", "a = " + "[" * 3000 + "]" * 3000 + "\n"),
        ("wrangler.json", '{"main": "w.ts", "env": {"a": 3, "b": {"triggers": "x"}}}'),
        ("wrangler.json", '{"main": {"x": 1}, "triggers": {"crons": {"a": "0 0 * * *"}}}'),
        ("wrangler.json", '["main", "triggers"]'),
        ("wrangler.jsonc", "[" * 3000 + "]" * 3000),
    ],
)
def test_wrangler_configs_of_any_shape_never_crash(
    make_repo: MakeRepo, name: str, text: str
) -> None:
    root = make_repo({name: text, "w.ts": "export default { fetch() {} };\n"})

    assert audit_rule(root, "cron-handler") == []


def test_an_unencodable_cron_is_reported_readably(make_repo: MakeRepo) -> None:
    config = '{"main": "w.ts", "triggers": {"crons": ["\\ud800 * * *", "0 0 * * *"]}}'
    root = make_repo({"wrangler.json": config, "w.ts": "export default { scheduled() {} };\n"})

    [finding] = audit_rule(root, "cron-handler")

    assert finding.message.startswith("invalid cron expression '\\ud800 * * *'")
    finding.message.encode("utf-8")  # lone surrogates escaped: output can write it
    assert finding.line == 1


def test_a_main_outside_the_tree_is_not_read(make_repo: MakeRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.ts"
    outside.write_text("export const scheduled = () => {};\nexport default {};\n")
    config = f'main = "{outside}"\n[triggers]\ncrons = ["0 0 * * *"]\n'
    root = make_repo(
        {
            "wrangler.toml": config,
            "a/wrangler.toml": config.replace(str(outside), "../../outside.ts"),
        }
    )
    rule = get_rule("cron-handler")
    assert rule is not None

    assert run_rule(rule, root, tracked_files(root), None) == []  # not even outside the targets
