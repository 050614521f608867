import { VideoEncoder } from './src/node/media/av/video-encoder';
const rss = () => Math.round(process.memoryUsage().rss / 1e6);
const gc = (global as any).gc as () => void;
const buf = Buffer.alloc(640*360*3/2, 100);
(async () => {
for (let round = 0; round < 8; round++) {
  for (let i = 0; i < 100; i++) { const v = VideoEncoder.open({ width: 640, height: 360, fps: 30, bitrateKbps: 500, gop: 60, encoder: 'libx264' }); v.encode(buf, false); v.close(); if (process.argv[2] === 'yield') await new Promise((r) => setImmediate(r)); }
  gc(); await new Promise((r) => setTimeout(r, 50)); gc();
  console.log('round', round, 'rss', rss(), 'MB', JSON.stringify(process.memoryUsage()));
}
})();
