/*
 * Load generator of the endurance benchmark, its own process (bench/endurance.ts):
 *
 *   node bench/endurance-load.js <file with {"urls": [...], "seconds": S, "everyMs": M}>
 *
 * Holds one signalling socket per URL for S seconds: the client's prelude (discover, settings,
 * waits for the offer), then one `candidate` every M ms (spread over the sockets), which the
 * fake instance echoes. Prints one JSON line at the end:
 *   { sockets, open, sent, echoed, errors, closed, rtt: { p50, p99, max } }  (ms)
 */
'use strict';
const { readFileSync } = require('node:fs');
const { WebSocket } = require('ws');

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const CANDIDATE = Buffer.from('candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0').toString('base64');
const stats = { sockets: cfg.urls.length, open: 0, sent: 0, echoed: 0, errors: 0, closed: 0 };
const rtts = [];
const sockets = [];

for (const [i, url] of cfg.urls.entries()) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const s = { ws, ready: false, sentAt: new Map() };
  sockets.push(s);
  ws.on('open', () => ws.send(JSON.stringify({ type: 'discover' })));
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type === 'resp:discover') ws.send(JSON.stringify({ type: 'settings', api_version: 2, enable_video: true, enable_speaker: true }));
    else if (msg.type === 'offer') {
      s.ready = true;
      stats.open++;
    } else if (msg.type === 'candidate') {
      const at = s.sentAt.get(msg.sdpMLineIndex);
      if (at !== undefined) {
        s.sentAt.delete(msg.sdpMLineIndex);
        stats.echoed++;
        // Keep a bounded sample of round trips.
        if (rtts.length < 200_000) rtts.push(performance.now() - at);
      }
    } else if (msg.type === 'error') stats.errors++;
  });
  ws.on('error', () => stats.errors++);
  ws.on('close', () => stats.closed++);
  void i;
}

let seq = 0;
let turn = 0;
const tick = setInterval(() => {
  // One candidate on the next ready socket, round robin: cfg.everyMs / sockets apart.
  for (let tries = 0; tries < sockets.length; tries++) {
    const s = sockets[turn++ % sockets.length];
    if (!s.ready || s.ws.readyState !== WebSocket.OPEN) continue;
    const n = seq++;
    s.sentAt.set(n, performance.now());
    s.ws.send(JSON.stringify({ type: 'candidate', candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: n }));
    stats.sent++;
    return;
  }
}, Math.max(1, cfg.everyMs / Math.max(1, sockets.length)));

setTimeout(() => {
  clearInterval(tick);
  rtts.sort((a, b) => a - b);
  const q = (p) => (rtts.length ? rtts[Math.min(rtts.length - 1, Math.ceil(p * rtts.length) - 1)] : null);
  process.stdout.write(`${JSON.stringify({ ...stats, rtt: { p50: q(0.5), p99: q(0.99), max: rtts[rtts.length - 1] ?? null } })}\n`);
  for (const s of sockets) s.ws.close();
  setTimeout(() => process.exit(0), 200);
}, cfg.seconds * 1000);
