import { DurableObject } from 'cloudflare:workers';
import type { ScanResult } from './opsMonitorService';

/** Fans scan results out to every dashboard connected over WebSocket. */
export class OpsMonitorBroadcastServer extends DurableObject {
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade') !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  async publish(result: ScanResult): Promise<void> {
    const message = JSON.stringify({ type: 'scan.completed', result });
    for (const socket of this.ctx.getWebSockets()) {
      socket.send(message);
    }
  }
}
