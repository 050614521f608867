import { describeInput } from './frame-source';
import { PatternRenderer, TEXT_LINE, textLayout } from './pattern-renderer';
import { readTimestampStrip, STRIP_MIN_WIDTH, writeTimestampStrip } from './timestamp-strip';

describe('timestamp strip (PROTOCOL.md §9)', () => {
  it('round-trips ms mod 2^48, MSB first, white for 1', () => {
    const w = STRIP_MIN_WIDTH;
    const h = 16;
    const frame = Buffer.alloc((w * h * 3) / 2, 77);
    const now = Date.now();
    writeTimestampStrip(frame, w, h, now);
    expect(readTimestampStrip(frame, w)).toBe(now % 2 ** 48);
    // Cell 47 is bit 0.
    expect(frame[8 * w + 47 * 16 + 8]).toBe(now % 2 === 1 ? 255 : 0);
    // Chroma under the strip is neutral.
    expect(frame[w * h]).toBe(128);
    writeTimestampStrip(frame, w, h, 2 ** 48 + 5);
    expect(readTimestampStrip(frame, w)).toBe(5);
  });
});

describe('PatternRenderer', () => {
  const w = 800;
  const h = 600;
  const inputPixels = (frame: Buffer) => {
    const l = textLayout(w, h);
    let lit = 0;
    for (let y = l.lineTops[TEXT_LINE.input]; y < l.lineTops[TEXT_LINE.input] + l.lineHeight; y++) {
      for (let x = 0; x < w; x++) if (frame[y * w + x] > 128) lit++;
    }
    return lit;
  };

  it('draws the last input event as text', () => {
    const r = new PatternRenderer(w, h, 15);
    const a = Buffer.alloc(r.frameBytes);
    const b = Buffer.alloc(r.frameBytes);
    const now = Date.now();
    r.render(a, { now, frameNumber: 1, droppedFrames: 0, lastInput: null });
    r.render(b, { now, frameNumber: 1, droppedFrames: 0, lastInput: 'input::key code=30 pressed=true' });
    expect(inputPixels(b)).toBeGreaterThan(inputPixels(a) * 1.5);
  });

  it('stays inside the buffer for small and odd sizes', () => {
    for (const [fw, fh] of [[2, 2], [64, 48], [321, 241]]) {
      const r = new PatternRenderer(fw, fh, 30);
      const frame = Buffer.alloc(r.frameBytes);
      expect(() => r.render(frame, { now: Date.now(), frameNumber: 0, droppedFrames: 0, lastInput: 'x'.repeat(200) })).not.toThrow();
      expect(() => writeTimestampStrip(frame, fw, fh, Date.now())).not.toThrow();
      expect(frame.length).toBe(r.frameBytes);
    }
  });
});

describe('describeInput', () => {
  it('formats PROTOCOL.md §5 events and rejects junk', () => {
    expect(describeInput({ type: 'input::key', data: { code: 30, pressed: true } })).toBe('input::key code=30 pressed=true');
    expect(describeInput({ type: 'input::touch-end', data: { id: 1 } })).toBe('input::touch-end id=1');
    expect(describeInput({ type: 'x', data: { s: 'é\n' } })).toBe('x s=??');
    expect(describeInput({ data: {} })).toBeNull();
    expect(describeInput('input::key')).toBeNull();
    expect(describeInput({ type: 'a'.repeat(500) })!.length).toBeLessThanOrEqual(160);
  });
});
