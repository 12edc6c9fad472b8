import type { OpsMonitorBroadcastServer } from './services/broadcast';

export interface Env {
  DB_OPS: D1Database;
  OPS_BROADCAST: DurableObjectNamespace<OpsMonitorBroadcastServer>;
  OPS_API_TOKEN: string;
}
