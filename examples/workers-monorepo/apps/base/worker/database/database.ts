import type { Env, OpsMonitorBinding } from '../env';

/**
 * Data access for app workers. Ops data (scans, issues) belongs to the orchestrator:
 * read it through opsMonitorClient, never through "DB_OPS" directly.
 */
export class DatabaseService {
  readonly opsMonitorClient: OpsMonitorBinding;

  constructor(private readonly env: Env) {
    this.opsMonitorClient = env.ORCHESTRATOR_OPS_MONITOR;
  }

  async openIssueTitles(): Promise<string[]> {
    const issues = await this.opsMonitorClient.getOpenIssues(20);
    return issues.map((issue) => issue.title);
  }

  async countScansToday(): Promise<number> {
    // TODO: move to getRecentScans once it accepts a time window.
    const row = await this.env.DB_OPS
      ?.prepare("SELECT COUNT(*) AS n FROM ops_scans WHERE started_at >= date('now')")
      .first<{ n: number }>();
    return row?.n ?? 0;
  }
}
