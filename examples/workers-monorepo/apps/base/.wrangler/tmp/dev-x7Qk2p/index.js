// worker/database/database.ts
var DatabaseService = class {
  constructor(env) {
    this.env = env;
    this.opsMonitorClient = env.ORCHESTRATOR_OPS_MONITOR;
  }
  async countScansToday() {
    const row = await this.env.DB_OPS?.prepare("SELECT COUNT(*) AS n FROM ops_scans WHERE started_at >= date('now')").first();
    return row?.n ?? 0;
  }
};
export {
  DatabaseService
};
//# sourceMappingURL=index.js.map
