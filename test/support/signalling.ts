import { WebSocket } from 'ws';

/** A signalling socket as a test client sees it: every frame it got, and how it closed. */
export interface TestSocket {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  send(value: unknown): void;
  next(type?: string, timeoutMs?: number): Promise<any>;
}

export function openSignalling(url: string): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: any[] = [];
    const waiters: (() => void)[] = [];
    ws.on('message', (data) => {
      messages.push(JSON.parse(data.toString()));
      waiters.splice(0).forEach((w) => w());
    });
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        closed,
        send: (value) => ws.send(typeof value === 'string' ? value : JSON.stringify(value)),
        /** The first message (of `type`) that arrives after this call. */
        next(type, timeoutMs = 10_000) {
          const from = messages.length;
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no ${type ?? 'message'} within ${timeoutMs} ms; got ${JSON.stringify(messages)}`)), timeoutMs);
            const check = () => {
              const hit = messages.slice(from).find((m) => !type || m.type === type);
              if (!hit) return void waiters.push(check);
              clearTimeout(timer);
              res(hit);
            };
            check();
          });
        },
      }),
    );
  });
}
