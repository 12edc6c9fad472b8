"""cron-handler: wrangler triggers.crons against the crons the scheduled handler compares."""

from __future__ import annotations

from .conftest import MakeRepo, audit_rule, where

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
