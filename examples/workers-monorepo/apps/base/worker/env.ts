export interface OpsMonitorBinding {
  scan(request: { scope: 'full' | 'incremental' }): Promise<{ scanId: number }>;
  getRecentScans(limit?: number): Promise<unknown[]>;
  getOpenIssues(limit?: number): Promise<Array<{ id: number; title: string }>>;
  resolveIssue(id: number, resolution: string): Promise<void>;
}

export interface Env {
  ORCHESTRATOR_OPS_MONITOR: OpsMonitorBinding;
  CACHE: KVNamespace;
  // Legacy: DB_OPS was bound here before the monitor binding existed; it is gone.
}
