import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { bitrateRange, defaultBitrateRange } from './instances';
import { ClientStateEventDto } from './session-payloads.dto';

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

describe('ClientStateEventDto (node -> gateway: a client peer came, went or failed)', () => {
  const check = (raw: Record<string, unknown>) =>
    validateSync(plainToInstance(ClientStateEventDto, raw), { whitelist: true, forbidNonWhitelisted: true }).map((e) => e.property);

  it('takes a failed state with its reason, and states without one', () => {
    expect(check({ session_id: 's', generation: 2, state: 'failed', reason: 'not connected within 30000 ms' })).toEqual([]);
    expect(check({ session_id: 's', generation: 2, state: 'connected' })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown state', { session_id: 's', generation: 1, state: 'dancing' }, 'state'],
    ['a reason that is not text', { session_id: 's', generation: 1, state: 'failed', reason: { not: 'text' } }, 'reason'],
    ['a reason over 1000 characters', { session_id: 's', generation: 1, state: 'failed', reason: 'x'.repeat(1001) }, 'reason'],
    ['an unknown field', { session_id: 's', generation: 1, state: 'failed', why: 'x' }, 'why'],
  ])('refuses %s', (_what, raw, field) => {
    expect(check(raw)).toContain(field);
  });
});
