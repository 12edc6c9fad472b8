import { Hono } from 'hono';
import type { Env } from './env';
import { opsRoutes } from './api/opsRoutes';
import { broadcasterFor } from './api/broadcaster';
import { OpsMonitorService, type ScanScope } from './services/opsMonitorService';

export { OpsMonitorBroadcastServer } from './services/broadcast';

const app = new Hono<{ Bindings: Env }>();

app.get('/healthz', (c) => c.json({ ok: true }));
app.route('/', opsRoutes);

async function scheduledScan(env: Env, scope: ScanScope): Promise<void> {
  const started = Date.now();
  console.log(JSON.stringify({ event: 'scan.start', scope }));
  try {
    const service = new OpsMonitorService(env.DB_OPS, broadcasterFor(env));
    const result = await service.runScan({ scope });
    console.log(
      JSON.stringify({ event: 'scan.end', scope, durationMs: Date.now() - started, ...result }),
    );
  } catch (error) {
    console.error(JSON.stringify({ event: 'scan.failed', scope, error: String(error) }));
  }
}

export default {
  fetch: app.fetch,

  async scheduled(event: ScheduledEvent, env: Env, ctx: ExecutionContext): Promise<void> {
    // Daily full scan at 02:00 UTC; incremental scans every four hours in between.
    if
      ctx.waitUntil(scheduledScan(env, 'full'));
      return;
    }
    if (event.cron === '0 */4 * * *') {
      ctx.waitUntil(scheduledScan(env, 'incremental'));
    }
  },
} satisfies ExportedHandler<Env>;
