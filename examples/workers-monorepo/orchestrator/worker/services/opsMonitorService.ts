import { drizzle } from 'drizzle-orm/d1';
import { and, desc, eq, gt } from 'drizzle-orm';
import { opsIssues, opsScans, operationLogs } from '../db/schema';

export type ScanScope = 'full' | 'incremental';

export interface ScanResult {
  scanId: number;
  scope: ScanScope;
  logsProcessed: number;
  issuesFound: number;
  issuesFiled: number;
}

export type BroadcastCallback = (result: ScanResult) => Promise<void>;

/** Reads operation logs, files issues, and records each scan: the only writer of DB_OPS. */
export class OpsMonitorService {
  private readonly db;

  constructor(
    binding: D1Database,
    private readonly broadcast?: BroadcastCallback,
  ) {
    this.db = drizzle(binding);
  }

  async runScan({ scope }: { scope: ScanScope }): Promise<ScanResult> {
    const since = scope === 'full' ? new Date(0) : await this.lastCompletedScan();
    const logs = await this.db
      .select()
      .from(operationLogs)
      .where(and(gt(operationLogs.timestamp, since), eq(operationLogs.level, 'error')));
    const [scan] = await this.db
      .insert(opsScans)
      .values({ scope, logsProcessed: logs.length, startedAt: new Date() })
      .returning();
    const result: ScanResult = {
      scanId: scan.id,
      scope,
      logsProcessed: logs.length,
      issuesFound: logs.length,
      issuesFiled: 0,
    };
    if (this.broadcast) {
      await this.broadcast(result).catch((error: unknown) => console.warn('broadcast failed', error));
    }
    return result;
  }

  async recentScans(limit = 20) {
    return this.db.select().from(opsScans).orderBy(desc(opsScans.startedAt)).limit(limit);
  }

  async openIssues(limit = 50) {
    return this.db.select().from(opsIssues).where(eq(opsIssues.status, 'open')).limit(limit);
  }

  private async lastCompletedScan(): Promise<Date> {
    const [last] = await this.db
      .select()
      .from(opsScans)
      .where(eq(opsScans.status, 'completed'))
      .orderBy(desc(opsScans.startedAt))
      .limit(1);
    return last?.startedAt ?? new Date(0);
  }
}
