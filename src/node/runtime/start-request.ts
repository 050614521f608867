/** What a start request must hold, checked before anything is spawned (each refusal names its field). */
import { bitrateRange, invalid, type NodeInstanceStartRequest } from '@streamstack/contracts';
import type { StreamerConfig } from '../media-link/streamer.messages';
import { INSTANCE_ID_PATTERN } from './runtime.constants';

export type Display = { width: number; height: number; fps: number };

export function checkInstanceId(id: unknown): string {
  if (typeof id !== 'string' || !INSTANCE_ID_PATTERN.test(id)) {
    throw invalid(`instance_id must match ${INSTANCE_ID_PATTERN} (it names a directory)`);
  }
  return id;
}

export function checkApplication(req: NodeInstanceStartRequest): void {
  if (req.kind !== 'test-pattern' && req.kind !== 'x11') throw invalid(`unknown application kind ${JSON.stringify(req.kind)}`);
  if (req.kind === 'x11' && (typeof req.command !== 'string' || req.command.trim() === '')) {
    throw invalid('an x11 application needs a command');
  }
}

export function checkDisplay(req: NodeInstanceStartRequest): Display {
  const d = req.display;
  const int = (v: unknown, min: number, max: number, name: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${name} must be an integer in ${min}..${max}`);
    return v;
  };
  // 4:2:0 H.264 needs even dimensions: drop the odd last column/row rather than refuse.
  return {
    width: int(d?.width, 2, 3840, 'display.width') & ~1,
    height: int(d?.height, 2, 2160, 'display.height') & ~1,
    fps: int(d?.fps, 1, 60, 'display.fps'),
  };
}

/** The encoder's gop and rate limits (the manifest's, else defaults for the display). */
export function checkEncoder(req: NodeInstanceStartRequest, display: Display): Omit<StreamerConfig['video'], 'encoder'> {
  const e = req.encoder;
  if (e?.codec !== 'h264') throw invalid('encoder.codec must be h264');
  if (!Number.isInteger(e.gop) || e.gop < 1) throw invalid('encoder.gop must be a positive integer');
  for (const key of ['bitrate_kbps', 'min_bitrate_kbps', 'max_bitrate_kbps'] as const) {
    if (e[key] !== undefined && (!Number.isInteger(e[key]) || (e[key] as number) < 1)) throw invalid(`encoder.${key} must be a positive integer`);
  }
  if (e.degradation !== undefined && e.degradation !== 'resolution-first' && e.degradation !== 'framerate-first') {
    throw invalid('encoder.degradation must be resolution-first or framerate-first');
  }
  return { gop: e.gop, ...bitrateRange(e, display), ...(e.degradation ? { degradation: e.degradation } : {}) };
}
