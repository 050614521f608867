import { FramePacer } from './frame-pacer';

/** The frames of `seconds` of a source at `sourceFps` (capture times from `startMs`, optional jitter) that the pacer takes at `fps`. */
function taken(pacer: FramePacer, fps: number, sourceFps: number, seconds: number, startMs = 0, jitter: (i: number) => number = () => 0): number[] {
  const out: number[] = [];
  const n = Math.round(seconds * sourceFps);
  for (let i = 0; i < n; i++) {
    const t = startMs + (i * 1000) / sourceFps + jitter(i);
    if (pacer.take(t, fps, sourceFps)) out.push(t);
  }
  return out;
}

describe('FramePacer', () => {
  it.each([
    [30, 30],
    [20, 30],
    [15, 30],
    [40, 60],
    [30, 60],
    [20, 60],
  ])('takes %i fps of a %i fps source, evenly', (fps, sourceFps) => {
    const t = taken(new FramePacer(), fps, sourceFps, 10);
    expect(t.length).toBeGreaterThanOrEqual(fps * 10 - 1);
    expect(t.length).toBeLessThanOrEqual(fps * 10 + 1);
    // No gap much longer than the interval: the frames are spread, not bunched.
    const gaps = t.slice(1).map((x, i) => x - t[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1000 / fps + 1000 / sourceFps);
  });

  it('at the source rate takes every frame, however jittery', () => {
    const jitter = (i: number) => (i % 2 ? 12 : -12);
    expect(taken(new FramePacer(), 30, 30, 5, 0, jitter)).toHaveLength(150);
  });

  it('keeps the rate with capture jitter of a few ms', () => {
    const jitter = (i: number) => ((i * 7919) % 9) - 4; // -4..4 ms
    const t = taken(new FramePacer(), 20, 30, 10, 0, jitter);
    expect(t.length).toBeGreaterThanOrEqual(195);
    expect(t.length).toBeLessThanOrEqual(201);
  });

  it('after the source pauses, starts a new cadence instead of catching up in a burst', () => {
    const p = new FramePacer();
    taken(p, 15, 30, 1);
    const after = taken(p, 15, 30, 1, 5000);
    expect(after.length).toBeGreaterThanOrEqual(14);
    expect(after.length).toBeLessThanOrEqual(16);
    expect(after[1] - after[0]).toBeGreaterThan(50);
  });

  it('follows a change of rate at once', () => {
    const p = new FramePacer();
    expect(taken(p, 15, 30, 2)).toHaveLength(30);
    expect(taken(p, 20, 30, 3, 2000).length).toBeGreaterThanOrEqual(59);
    expect(taken(p, 30, 30, 1, 5000)).toHaveLength(30);
  });
});
