import { VideoEncoder } from './src/node/media/av/video-encoder';
function rng(seed: number) { let s = seed >>> 0 || 1; return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; }; }
function screenFrames(w: number, h: number, count: number): Buffer[] {
  const next = rng(777); const desk = Buffer.alloc(w * h * 2);
  for (let y = 0; y < h * 2; y++) for (let x = 0; x < w; x++) { const glyph = (y % 16 < 11 && x % 8 < 6 && (next() & 3) !== 0) || x % 400 < 2; desk[y * w + x] = glyph ? 30 + (next() & 15) : 225; }
  const frames: Buffer[] = []; const winTop = Math.floor(h / 3) & ~1; const winH = Math.floor(h / 3) & ~1;
  for (let f = 0; f < count; f++) { const b = Buffer.alloc((w * h * 3) / 2, 128); desk.copy(b, 0, 0, w * h); const scroll = (f * 4) % h;
    for (let y = 0; y < winH; y++) desk.copy(b, (winTop + y) * w, (y + scroll) * w, (y + scroll + 1) * w); frames.push(b); }
  return frames;
}
const W = Number(process.argv[2]), H = Number(process.argv[3]);
const frames = screenFrames(W, H, 30);
const res: Record<string, number[][]> = { '1': [], '2': [] };
for (let round = 0; round < 8; round++) for (const th of [1, 2]) {
  const enc = VideoEncoder.open({ width: W, height: H, fps: 30, bitrateKbps: 2500, gop: 300, encoder: 'libx264', threads: th });
  const t: number[] = []; const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < 120; i++) { const a = performance.now(); enc.encode(frames[i % 30], false); if (i >= 5) t.push(performance.now() - a); }
  const cpu = process.cpuUsage(cpu0); const wall = performance.now() - wall0;
  enc.close(); t.sort((a, b) => a - b);
  res[String(th)].push([t[Math.floor(t.length / 2)], t[Math.floor(t.length * 0.9)], (cpu.user + cpu.system) / 1000 / 120]);
}
for (const th of ['1', '2']) { const r = res[th]; const med = (k: number) => r.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(r.length / 2)].toFixed(2);
  console.log(`${W}x${H} threads=${th}: median-of-rounds p50 ${med(0)} ms, p90 ${med(1)} ms, cpu/frame ${med(2)} ms; rounds p50: ${r.map((x) => x[0].toFixed(1)).join(' ')}`); }
