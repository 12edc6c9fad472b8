import { Hono } from 'hono';
import type { Env } from '../env';
import { OpsMonitorService, type ScanScope } from '../services/opsMonitorService';
import { broadcasterFor } from './broadcaster';

const SCOPES: readonly ScanScope[] = ['full', 'incremental'];

export const opsRoutes = new Hono<{ Bindings: Env }>();

opsRoutes.post('/api/ops/scan', async (c) => {
  const body = await c.req.json<{ scope?: string }>().catch(() => ({}) as { scope?: string });
  if (!body.scope || !SCOPES.includes(body.scope as ScanScope)) {
    return c.json({ error: `invalid scope: ${body.scope ?? '(missing)'}` }, 400);
  }
  try {
    const service = new OpsMonitorService(c.env.DB_OPS, broadcasterFor(c.env));
    return c.json(await service.runScan({ scope: body.scope as ScanScope }));
  } catch (error) {
    return c.json({ error: `scan failed: ${String(error)}` }, 500);
  }
});

opsRoutes.get('/api/ops/scans', async (c) => {
  const service = new OpsMonitorService(c.env.DB_OPS);
  return c.json({ scans: await service.recentScans() });
});

opsRoutes.get('/api/ops/issues', async (c) => {
  const service = new OpsMonitorService(c.env.DB_OPS);
  return c.json({ issues: await service.openIssues() });
});
