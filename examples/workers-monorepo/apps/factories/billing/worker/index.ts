import type { OpsMonitorBinding } from '@acme/app-base/worker/env';

interface Env {
  ORCHESTRATOR_OPS_MONITOR: OpsMonitorBinding;
  DB_BILLING: D1Database;
  DB_OPS_BACKUP: R2Bucket;
}

async function issueInvoices(env: Env): Promise<number> {
  const { results } = await env.DB_BILLING.prepare(
    "SELECT id FROM invoices WHERE status = 'pending'",
  ).all<{ id: string }>();
  return results.length;
}

async function recordFailure(env: Env, error: unknown): Promise<void> {
  const { DB_OPS: opsDb } = env;
  await opsDb.prepare('INSERT INTO operation_logs (source, level, message) VALUES (?, ?, ?)')
    .bind('factory-billing', 'error', String(error))
    .run();
}

async function archiveLedger(env: Env): Promise<void> {
  const ledger = await env.DB_BILLING.prepare('SELECT * FROM ledger').all();
  await env.DB_OPS_BACKUP.put(`ledger-${Date.now()}.json`, JSON.stringify(ledger.results));
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const issues = await env.ORCHESTRATOR_OPS_MONITOR.getOpenIssues(10);
    return Response.json({ path: new URL(request.url).pathname, openIssues: issues.length });
  },

  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    switch (controller.cron) {
      case '*/15 * * * *':
        ctx.waitUntil(issueInvoices(env).catch((error) => recordFailure(env, error)));
        break;
      case '30 1 * * *':
        ctx.waitUntil(archiveLedger(env));
        break;
      default:
        console.warn(`no job for cron ${controller.cron}`);
    }
  },
} satisfies ExportedHandler<Env>;
