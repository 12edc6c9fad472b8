import type { Env } from '../env';
import type { BroadcastCallback } from '../services/opsMonitorService';

export function broadcasterFor(env: Env): BroadcastCallback {
  return async (result) => {
    const stub = env.OPS_BROADCAST.get(env.OPS_BROADCAST.idFromName('ops'));
    await stub.publish(result);
  };
}
