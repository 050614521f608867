import { VideoEncoder } from './src/node/media/av/video-encoder';
import { OpusEncoder } from './src/node/media/av/opus-encoder';
import { scaleI420 } from './src/node/media/av/x11-capture';
const rss = () => Math.round(process.memoryUsage().rss / 1e6);
const gc = (global as any).gc as () => void;
const which = process.argv[2];
for (const round of [0, 1, 2, 3]) {
  if (which === 'hw') for (let i = 0; i < 300; i++) for (const e of ['h264_nvenc', 'h264_qsv', 'h264_vaapi'] as const) { try { VideoEncoder.open({ width: 320, height: 240, fps: 30, bitrateKbps: 500, gop: 60, encoder: e }); } catch { /* expected */ } }
  if (which === 'nvenc' || which === 'qsv' || which === 'vaapi') for (let i = 0; i < 900; i++) { try { VideoEncoder.open({ width: 320, height: 240, fps: 30, bitrateKbps: 500, gop: 60, encoder: ('h264_' + which) as any }); } catch { /* expected */ } }
  if (which === 'x264') for (let i = 0; i < 100; i++) { const v = VideoEncoder.open({ width: 640, height: 360, fps: 30, bitrateKbps: 500, gop: 60, encoder: 'libx264' }); v.encode(Buffer.alloc(640*360*3/2, 100), i % 2 === 0); v.close(); }
  if (which === 'opus') for (let i = 0; i < 200; i++) { const o = OpusEncoder.open({ sampleRate: 48000, channels: 2, bitrateKbps: 64 }); o.encode(Buffer.alloc(960*4*3)); o.close(); }
  if (which === 'scale') for (let i = 0; i < 200; i++) scaleI420(Buffer.alloc(320*240*3/2), 320, 240, 160 + 2 * (i % 8), 120);
  gc();
  console.log(which, 'round', round, 'rss', rss(), 'MB');
}
