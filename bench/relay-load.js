/*
 * Load generator of the signalling-relay benchmark, run as its own process (so that it does not
 * share an event loop with the relay it measures):
 *
 *   node bench/relay-load.js '{"url":"ws://...","mode":"latency"|"throughput","count":N,"window":W}'
 *
 * Speaks the client's side of PROTOCOL.md §4 far enough for candidates to be relayed: discover,
 * waits for resp:discover, settings, waits for the offer. Then sends `candidate` messages whose
 * sdpMLineIndex is a sequence number; the far side (a fake instance) echoes each one back. With
 * `window` W, up to W round trips are in flight. Prints one JSON line:
 *   { mode, count, window, seconds, roundTripsPerSecond, rtt: { p50, p95, p99, max } }  (ms)
 */
'use strict';
const { WebSocket } = require('ws');

const cfg = JSON.parse(process.argv[2]);
const CANDIDATE = Buffer.from('candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0').toString('base64');

function quantile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : null;
}

const ws = new WebSocket(cfg.url, { perMessageDeflate: false });
const sentAt = new Float64Array(cfg.count);
const rtts = [];
let next = 0;
let done = 0;
let started = 0;
let phase = 'prelude';

function sendOne() {
  const seq = next++;
  sentAt[seq] = performance.now();
  ws.send(JSON.stringify({ type: 'candidate', candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: seq }));
}

function finish() {
  const seconds = (performance.now() - started) / 1000;
  rtts.sort((a, b) => a - b);
  const out = {
    mode: cfg.mode,
    count: cfg.count,
    window: cfg.window,
    seconds,
    roundTripsPerSecond: cfg.count / seconds,
    rtt: { p50: quantile(rtts, 0.5), p95: quantile(rtts, 0.95), p99: quantile(rtts, 0.99), max: rtts[rtts.length - 1] },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  ws.close();
  setTimeout(() => process.exit(0), 50);
}

ws.on('open', () => ws.send(JSON.stringify({ type: 'discover' })));
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  if (phase === 'prelude') {
    if (msg.type === 'resp:discover') ws.send(JSON.stringify({ type: 'settings', api_version: 2, enable_video: true, enable_speaker: true }));
    else if (msg.type === 'offer') {
      phase = 'run';
      started = performance.now();
      for (let i = 0; i < Math.min(cfg.window, cfg.count); i++) sendOne();
    } else if (msg.type === 'error') {
      process.stderr.write(`relay answered an error: ${msg.message}\n`);
      process.exit(2);
    }
    return;
  }
  if (msg.type !== 'candidate') {
    process.stderr.write(`unexpected message: ${data}\n`);
    process.exit(2);
  }
  rtts.push(performance.now() - sentAt[msg.sdpMLineIndex]);
  done++;
  if (next < cfg.count) sendOne();
  if (done === cfg.count) finish();
});
ws.on('close', (code, reason) => {
  if (done < cfg.count) {
    process.stderr.write(`socket closed after ${done}/${cfg.count}: ${code} ${reason}\n`);
    process.exit(3);
  }
});
ws.on('error', (e) => {
  process.stderr.write(`socket error: ${e.message}\n`);
  process.exit(4);
});
setTimeout(() => {
  process.stderr.write(`timed out after ${done}/${cfg.count}\n`);
  process.exit(5);
}, cfg.timeoutMs || 120_000).unref();
