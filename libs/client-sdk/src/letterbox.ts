import { Limits } from '../../contracts/src/limits';

/**
 * Where a stream of `source` pixels shows inside an element of `box` CSS pixels when it is
 * scaled to fit without distortion (CSS `object-fit: contain`): centred, with bars on two sides.
 */
export interface Size {
  width: number;
  height: number;
}

export interface Rect extends Size {
  x: number;
  y: number;
}

export function contentRect(box: Size, source: Size): Rect {
  if (source.width <= 0 || source.height <= 0 || box.width <= 0 || box.height <= 0) return { x: 0, y: 0, width: 0, height: 0 };
  const scale = Math.min(box.width / source.width, box.height / source.height);
  const width = source.width * scale;
  const height = source.height * scale;
  return { x: (box.width - width) / 2, y: (box.height - height) / 2, width, height };
}

/**
 * A point in the element (CSS pixels from its top-left) as a stream pixel, clamped to the
 * stream; `inside` is false over the bars.
 */
export function toStreamPixel(point: { x: number; y: number }, box: Size, source: Size): { x: number; y: number; inside: boolean } {
  const r = contentRect(box, source);
  if (r.width === 0) return { x: 0, y: 0, inside: false };
  const fx = (point.x - r.x) / r.width;
  const fy = (point.y - r.y) / r.height;
  const clamp = (v: number, max: number) => Math.min(max - 1, Math.max(0, Math.floor(v)));
  return {
    x: clamp(fx * source.width, source.width),
    y: clamp(fy * source.height, source.height),
    inside: fx >= 0 && fx < 1 && fy >= 0 && fy < 1,
  };
}

/** PROTOCOL.md §3's screen limits, as the gateway enforces them. */
export const SCREEN_LIMITS = Limits.screen;

/**
 * A remote screen that fills an element of `box` CSS pixels: even sizes (H.264's 4:2:0 needs
 * them), scaled down to stay within `max` (at most §3's limits) with the aspect ratio kept.
 */
export function screenToFill(box: Size, max: Size = { width: SCREEN_LIMITS.maxWidth, height: SCREEN_LIMITS.maxHeight }): Size {
  const maxW = Math.min(max.width, SCREEN_LIMITS.maxWidth);
  const maxH = Math.min(max.height, SCREEN_LIMITS.maxHeight);
  const w = Math.max(2, Math.round(box.width));
  const h = Math.max(2, Math.round(box.height));
  const scale = Math.min(1, maxW / w, maxH / h);
  const even = (v: number) => Math.max(2, Math.floor((v * scale) / 2) * 2);
  return { width: even(w), height: even(h) };
}
