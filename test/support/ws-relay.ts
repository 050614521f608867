import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * A bare WebSocket relay: a client socket on `/client` and an instance socket on `/instance`,
 * every text frame forwarded unchanged to the other side (held until that side connects).
 * No validation, no bus, no tickets: the floor that the gateway's relay is measured against
 * (bench/) and the signalling path of the fake-instance client tests.
 */
export interface BareRelay {
  url: string;
  clientUrl: string;
  instanceUrl: string;
  /** Every frame relayed, in order, with its direction. */
  log: { from: 'client' | 'instance'; at: number; text: string }[];
  close(): Promise<void>;
}

export async function startBareRelay(options: { record?: boolean } = {}): Promise<BareRelay> {
  const record = options.record ?? true;
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 });
  const sockets: Record<'client' | 'instance', WebSocket | null> = { client: null, instance: null };
  const held: Record<'client' | 'instance', string[]> = { client: [], instance: [] };
  const log: BareRelay['log'] = [];

  wss.on('connection', (ws, req) => {
    const side = req.url?.startsWith('/instance') ? 'instance' : req.url?.startsWith('/client') ? 'client' : null;
    if (!side) return ws.close(1008, 'unknown path');
    const other = side === 'client' ? 'instance' : 'client';
    sockets[side]?.close(4001, 'replaced');
    sockets[side] = ws;
    for (const text of held[side].splice(0)) ws.send(text);
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? data : data.toString();
      if (record) log.push({ from: side, at: Date.now(), text: text.toString() });
      const to = sockets[other];
      if (to && to.readyState === WebSocket.OPEN) to.send(text, { binary: isBinary });
      else held[other].push(text.toString());
    });
    ws.on('close', () => {
      if (sockets[side] === ws) sockets[side] = null;
    });
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}`;
  return {
    url,
    clientUrl: `${url}/client`,
    instanceUrl: `${url}/instance`,
    log,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
