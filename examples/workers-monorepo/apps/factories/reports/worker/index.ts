import { drizzle } from 'drizzle-orm/d1';
import { sql } from 'drizzle-orm';
import { buildDigest, type Digest } from './digest';

interface Env {
  ORCHESTRATOR_OPS_MONITOR: {
    getOpenIssues(limit?: number): Promise<Array<{ id: number; title: string; severity: string }>>;
  };
  DIGEST_WEBHOOK: string;
}

async function sendDigest(env: Env, digest: Digest): Promise<void> {
  await fetch(env.DIGEST_WEBHOOK, { method: 'POST', body: JSON.stringify(digest) });
}

async function slowestScans(env: Env) {
  const db = drizzle(
    env.DB_OPS,
  );
  return db.all(sql`SELECT id, duration_ms FROM ops_scans ORDER BY duration_ms DESC LIMIT 5`);
}

// Runs the weekly digest. Exported by name so tests can call it directly.
export const scheduled: ExportedHandlerScheduledHandler<Env> = async (_controller, env, ctx) => {
  const issues = await env.ORCHESTRATOR_OPS_MONITOR.getOpenIssues(100);
  ctx.waitUntil(sendDigest(env, buildDigest(issues, await slowestScans(env))));
};

export default {
  async fetch(): Promise<Response> {
    return new Response('factory-reports: see the weekly digest', { status: 200 });
  },
} satisfies ExportedHandler<Env>;
