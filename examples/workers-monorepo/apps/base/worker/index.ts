import { Hono } from 'hono';
import type { Env } from './env';
import { DatabaseService } from './database/database';

const app = new Hono<{ Bindings: Env }>();

app.get('/issues', async (c) => {
  const db = new DatabaseService(c.env);
  return c.json({ titles: await db.openIssueTitles() });
});

app.get('/scans/today', async (c) => {
  const db = new DatabaseService(c.env);
  return c.json({ count: await db.countScansToday() });
});

export default {
  fetch: app.fetch,

  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    const db = new DatabaseService(env);
    ctx.waitUntil(
      db.openIssueTitles().then((titles) => env.CACHE.put('issue-titles', JSON.stringify(titles))),
    );
  },
} satisfies ExportedHandler<Env>;
