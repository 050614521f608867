import { bitrateRange, defaultBitrateRange } from './instances';

describe('defaultBitrateRange', () => {
  it("passes through Anbox Cloud's anchors", () => {
    expect(defaultBitrateRange({ width: 1280, height: 720, fps: 30 })).toEqual({ min: 1000, max: 3000 });
    expect(defaultBitrateRange({ width: 1920, height: 1080, fps: 60 })).toEqual({ min: 3000, max: 7000 });
  });

  it('grows with pixels x fps, sub-linearly, within the manifest range', () => {
    const p1080p30 = defaultBitrateRange({ width: 1920, height: 1080, fps: 30 });
    expect(p1080p30.min).toBeGreaterThan(1000);
    expect(p1080p30.min).toBeLessThan(3000);
    expect(p1080p30.max).toBeGreaterThan(3000);
    expect(p1080p30.max).toBeLessThan(7000);
    const small = defaultBitrateRange({ width: 320, height: 240, fps: 15 });
    expect(small.min).toBe(100);
    expect(small.max).toBeGreaterThan(small.min);
    expect(defaultBitrateRange({ width: 3840, height: 2160, fps: 60 }).max).toBeLessThanOrEqual(50_000);
  });
});

describe('bitrateRange', () => {
  const p720 = { width: 1280, height: 720, fps: 30 };
  it('takes the manifest limits and clamps the start into them', () => {
    expect(bitrateRange({ codec: 'h264', gop: 60, bitrate_kbps: 4000, min_bitrate_kbps: 500, max_bitrate_kbps: 2000 }, p720)).toEqual({ minKbps: 500, maxKbps: 2000, startKbps: 2000 });
    expect(bitrateRange({ codec: 'h264', gop: 60, bitrate_kbps: 100, min_bitrate_kbps: 500, max_bitrate_kbps: 2000 }, p720)).toEqual({ minKbps: 500, maxKbps: 2000, startKbps: 500 });
  });

  it('fills absent limits from the screen, keeping min <= max', () => {
    expect(bitrateRange({ codec: 'h264', gop: 60, bitrate_kbps: 4000 }, p720)).toEqual({ minKbps: 1000, maxKbps: 3000, startKbps: 3000 });
    expect(bitrateRange({ codec: 'h264', gop: 60, bitrate_kbps: 4000, max_bitrate_kbps: 600 }, p720)).toEqual({ minKbps: 600, maxKbps: 600, startKbps: 600 });
    expect(bitrateRange({ codec: 'h264', gop: 60, bitrate_kbps: 4000, min_bitrate_kbps: 5000 }, p720)).toEqual({ minKbps: 5000, maxKbps: 5000, startKbps: 5000 });
  });
});
