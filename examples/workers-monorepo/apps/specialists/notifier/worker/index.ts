import type { OpsMonitorBinding } from '@acme/app-base/worker/env';

interface Env {
  ORCHESTRATOR_OPS_MONITOR: OpsMonitorBinding;
  CHAT_WEBHOOK: string;
}

const RESTRICTED = 'DB_OPS'; // named in alerts so on-call knows which binding is off-limits

async function post(env: Env, text: string): Promise<void> {
  await fetch(env.CHAT_WEBHOOK, { method: 'POST', body: JSON.stringify({ text }) });
}

async function summary(env: Env): Promise<string> {
  // Never read env.DB_OPS here: the orchestrator owns it.
  const issues = await env.ORCHESTRATOR_OPS_MONITOR.getOpenIssues(20);
  return `${issues.length} open ops issues (data via ORCHESTRATOR_OPS_MONITOR, not ${RESTRICTED})`;
}

export default {
  async scheduled(event: ScheduledController, env: Env, ctx: ExecutionContext) {
    if (event.cron === '0 9 * * 1-5') {
      ctx.waitUntil(summary(env).then((text) => post(env, text)));
    } else if (event.cron === '*/30 * * * *') {
      const issues = await env.ORCHESTRATOR_OPS_MONITOR.getOpenIssues(5);
      ctx.waitUntil(post(env, `${issues.length} issues need attention`));
    } else if (event.cron === '0 17 * * 5') {
      ctx.waitUntil(post(env, 'Weekly wrap-up: see the ops dashboard'));
    }
  },
} satisfies ExportedHandler<Env>;
