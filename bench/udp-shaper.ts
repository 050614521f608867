/**
 * A UDP rate shaper in front of a TURN server, for a step change of the link's rate within one
 * session (coturn's `max-bps` is fixed per server and allocation). The client (Chromium) talks to
 * `port` as if it were the TURN server; each client address gets its own upstream socket, so the
 * TURN server sees one 5-tuple per client. Server → client traffic (the media) is shaped: a
 * queue of at most `queueMs` at the current rate, drained at that rate; what does not fit is
 * dropped, as a bottleneck router would. Client → server passes unchanged.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface UdpShaper {
  port: number;
  /** Bytes per second towards the client; Infinity = unshaped. */
  setRate(bytesPerSecond: number): void;
  dropped(): number;
  close(): Promise<void>;
}

export async function startUdpShaper(upstreamPort: number, opts: { queueMs?: number } = {}): Promise<UdpShaper> {
  const queueMs = opts.queueMs ?? 100;
  let rate = Infinity;
  let drops = 0;
  const front = createSocket('udp4');
  const clients = new Map<string, { up: Socket; queue: Buffer[]; queued: number; tokens: number; last: number; timer: NodeJS.Timeout | null; port: number }>();

  const drain = (c: NonNullable<ReturnType<typeof clients.get>>) => {
    c.timer = null;
    const now = performance.now();
    c.tokens = Math.min(c.tokens + ((now - c.last) * rate) / 1000, Math.max(1500, rate * 0.02));
    c.last = now;
    while (c.queue.length && (rate === Infinity || c.tokens >= c.queue[0].length)) {
      const p = c.queue.shift()!;
      c.queued -= p.length;
      c.tokens -= p.length;
      front.send(p, c.port, '127.0.0.1');
    }
    if (c.queue.length) c.timer = setTimeout(() => drain(c), Math.max(1, ((c.queue[0].length - c.tokens) * 1000) / rate));
  };

  front.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let c = clients.get(key);
    if (!c) {
      const up = createSocket('udp4');
      const entry = { up, queue: [] as Buffer[], queued: 0, tokens: 0, last: performance.now(), timer: null as NodeJS.Timeout | null, port: rinfo.port };
      up.on('message', (m) => {
        if (rate === Infinity && entry.queue.length === 0) return void front.send(m, entry.port, '127.0.0.1');
        if (entry.queued + m.length > Math.max(3000, (rate * queueMs) / 1000)) {
          drops++;
          return;
        }
        entry.queue.push(m);
        entry.queued += m.length;
        if (!entry.timer) drain(entry);
      });
      up.on('error', () => undefined);
      up.bind(0, '127.0.0.1');
      clients.set(key, entry);
      c = entry;
    }
    c.up.send(msg, upstreamPort, '127.0.0.1');
  });
  front.on('error', () => undefined);
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  return {
    port: front.address().port,
    setRate(bytesPerSecond) {
      rate = bytesPerSecond;
      for (const c of clients.values()) if (!c.timer && c.queue.length) drain(c);
    },
    dropped: () => drops,
    async close() {
      for (const c of clients.values()) {
        if (c.timer) clearTimeout(c.timer);
        c.up.close();
      }
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}
