import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphColumns } from '../../src/node/sources/test-pattern/bitmap-font';
import { TEXT_LINE, textLayout } from '../../src/node/sources/test-pattern/pattern-renderer';

/** Where the test pattern prints its last input, in a frame of `width`×`height`: two text lines. */
export function inputLinesRect(width: number, height: number) {
  const l = textLayout(width, height);
  return { x: 0, y: l.lineTops[TEXT_LINE.input], width, height: 2 * l.lineHeight };
}

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i);

/**
 * Reads the test pattern's input lines back as text from the luma of `inputLinesRect` (one byte
 * a pixel, full range, as a browser decodes it): each glyph cell is sampled at the centre of
 * each font pixel and matched to the nearest glyph of the pattern's own bitmap font, so a few
 * wrong pixels from compression do not change a letter. Returns the text after `INPUT `.
 */
export function readInputLines(luma: Uint8Array, width: number, height: number): string {
  const l = textLayout(width, height);
  const s = l.scale;
  const at = (x: number, y: number) => luma[y * width + x] >= 128;
  let text = '';
  for (let line = 0; line < 2; line++) {
    const top = line * l.lineHeight;
    for (let i = 0; i < l.columns; i++) {
      const left = l.x + i * GLYPH_ADVANCE * s;
      const seen: number[] = [];
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        let bits = 0;
        for (let r = 0; r < GLYPH_HEIGHT; r++) if (at(left + c * s + (s >> 1), top + r * s + (s >> 1))) bits |= 1 << r;
        seen.push(bits);
      }
      let best = 0x20;
      let bestDistance = Infinity;
      for (const code of PRINTABLE) {
        const cols = glyphColumns(code);
        let d = 0;
        for (let c = 0; c < GLYPH_WIDTH; c++) d += popcount(cols[c] ^ seen[c]);
        if (d < bestDistance) [best, bestDistance] = [code, d];
      }
      text += String.fromCharCode(best);
    }
  }
  return text.replace(/^INPUT /, '').trimEnd();
}

function popcount(v: number): number {
  let n = 0;
  for (; v; v &= v - 1) n++;
  return n;
}
