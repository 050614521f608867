/**
 * The timestamp strip of PROTOCOL.md §9: 48 cells of 16x16 at the top-left of the frame,
 * cell i = bit 47-i of (ms mod 2^48), white (luma 255) for 1, black (luma 0) for 0.
 *
 * Dependency-free: used by the frame-source child process and by readers (tests, benches).
 */
export const STRIP_CELLS = 48;
export const STRIP_CELL_SIZE = 16;
/** Narrowest frame that holds the whole strip. */
export const STRIP_MIN_WIDTH = STRIP_CELLS * STRIP_CELL_SIZE;

const MODULUS = 2 ** 48;

/**
 * Writes the strip for `ms` into an I420 (yuv420p) frame: luma cells 0/255, chroma neutral so
 * the cells stay grey-scale whatever is under them. Cells that do not fit are skipped.
 */
export function writeTimestampStrip(frame: Buffer, width: number, height: number, ms: number): void {
  const rows = Math.min(STRIP_CELL_SIZE, height);
  const cells = Math.min(STRIP_CELLS, Math.floor(width / STRIP_CELL_SIZE));
  const value = ((Math.floor(ms) % MODULUS) + MODULUS) % MODULUS;
  for (let i = 0; i < cells; i++) {
    // Exact in doubles: value < 2^48 < 2^53.
    const bit = Math.floor(value / 2 ** (STRIP_CELLS - 1 - i)) % 2;
    const luma = bit === 1 ? 255 : 0;
    const x = i * STRIP_CELL_SIZE;
    for (let y = 0; y < rows; y++) {
      const row = y * width + x;
      frame.fill(luma, row, row + STRIP_CELL_SIZE);
    }
  }
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const stripChromaWidth = Math.min(cw, (cells * STRIP_CELL_SIZE) >> 1);
  const uBase = width * height;
  const vBase = uBase + cw * ch;
  for (let y = 0; y < Math.min(STRIP_CELL_SIZE >> 1, ch); y++) {
    frame.fill(128, uBase + y * cw, uBase + y * cw + stripChromaWidth);
    frame.fill(128, vBase + y * cw, vBase + y * cw + stripChromaWidth);
  }
}

/**
 * Reads the strip back from a luma plane (8-bit, `width` bytes per row): samples the centre
 * pixel of each cell and thresholds at half scale. Returns milliseconds mod 2^48.
 */
export function readTimestampStrip(luma: Uint8Array, width: number): number {
  let value = 0;
  const y = STRIP_CELL_SIZE >> 1;
  for (let i = 0; i < STRIP_CELLS; i++) {
    const x = i * STRIP_CELL_SIZE + (STRIP_CELL_SIZE >> 1);
    const bit = luma[y * width + x] >= 128 ? 1 : 0;
    value = value * 2 + bit;
  }
  return value;
}
