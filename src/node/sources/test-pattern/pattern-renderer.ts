/**
 * Draws the test pattern into I420 (yuv420p) buffers: scrolling colour bars, a bouncing box,
 * and a text panel with a title, the wall clock, the frame counter and the last input event.
 * The timestamp strip is not drawn here: the frame source stamps it last, right before the
 * frame is handed to the encoder, so that its value is the time the frame left the source.
 *
 * Dependency-free: loaded by the frame-source child process.
 */
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphColumns } from './bitmap-font';
import { STRIP_CELL_SIZE } from './timestamp-strip';

export interface PatternState {
  /** Wall-clock ms the frame is drawn at: drives motion and the clock. */
  now: number;
  frameNumber: number;
  droppedFrames: number;
  /** Text of the last input event, or null before the first one. */
  lastInput: string | null;
}

export interface TextLayout {
  scale: number;
  /** Left edge of the text. */
  x: number;
  /** Top of each text line, in the order title, clock, frame, input (two lines). */
  lineTops: number[];
  lineHeight: number;
  /** Characters that fit on one line. */
  columns: number;
  /** The black panel behind the text: rows [panelTop, panelBottom). */
  panelTop: number;
  panelBottom: number;
}

export const TEXT_LINE = { title: 0, clock: 1, frame: 2, input: 3, inputContinued: 4 } as const;
const LINE_COUNT = 5;

/** Where the text goes for a frame size; exported so readers can look at the right pixels. */
export function textLayout(width: number, height: number): TextLayout {
  const scale = Math.max(1, Math.min(4, Math.floor(width / 240)));
  const x = 4 * scale;
  const lineHeight = (GLYPH_HEIGHT + 3) * scale;
  const panelTop = STRIP_CELL_SIZE + 2 * scale;
  const lineTops: number[] = [];
  for (let i = 0; i < LINE_COUNT; i++) lineTops.push(panelTop + 2 * scale + i * lineHeight);
  const panelBottom = Math.min(height, panelTop + 4 * scale + LINE_COUNT * lineHeight);
  const columns = Math.max(1, Math.floor((width - 2 * x) / (GLYPH_ADVANCE * scale)));
  return { scale, x, lineTops, lineHeight, columns, panelTop, panelBottom };
}

// 75% colour bars in BT.601 limited range: white, yellow, cyan, green, magenta, red, blue, black.
const BARS: ReadonlyArray<readonly [number, number, number]> = [
  [180, 128, 128],
  [168, 44, 136],
  [145, 147, 44],
  [133, 63, 52],
  [63, 193, 204],
  [51, 109, 212],
  [28, 212, 120],
  [16, 128, 128],
];
const BAR_SCROLL_PERIOD_MS = 4000;
const TEXT_LUMA = 235;
const PANEL_LUMA = 16;

export class PatternRenderer {
  readonly frameBytes: number;
  private readonly cw: number;
  private readonly ch: number;
  private readonly uBase: number;
  private readonly vBase: number;
  private readonly barPeriod: number;
  private readonly yRow: Buffer;
  private readonly uRow: Buffer;
  private readonly vRow: Buffer;
  private readonly layout: TextLayout;
  private readonly title: string;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly fps: number,
  ) {
    this.cw = (width + 1) >> 1;
    this.ch = (height + 1) >> 1;
    this.uBase = width * height;
    this.vBase = this.uBase + this.cw * this.ch;
    this.frameBytes = this.vBase + this.cw * this.ch;
    // Bars are an even number of luma pixels wide so luma and chroma scroll in step.
    const barWidth = Math.max(2, Math.ceil(width / BARS.length / 2) * 2);
    this.barPeriod = barWidth * BARS.length;
    // One row long enough to copy `width` pixels from any offset within one period.
    this.yRow = Buffer.alloc(width + this.barPeriod);
    this.uRow = Buffer.alloc(this.cw + this.barPeriod / 2);
    this.vRow = Buffer.alloc(this.cw + this.barPeriod / 2);
    for (let x = 0; x < this.yRow.length; x++) this.yRow[x] = BARS[Math.floor(x / barWidth) % BARS.length][0];
    for (let x = 0; x < this.uRow.length; x++) {
      const bar = BARS[Math.floor((2 * x) / barWidth) % BARS.length];
      this.uRow[x] = bar[1];
      this.vRow[x] = bar[2];
    }
    this.layout = textLayout(width, height);
    this.title = `STREAMSTACK TEST PATTERN ${width}x${height}@${fps}`;
  }

  render(frame: Buffer, state: PatternState): void {
    if (frame.length < this.frameBytes) throw new Error(`frame buffer too small: ${frame.length} < ${this.frameBytes}`);
    this.drawBars(frame, state.now);
    this.drawBox(frame, state.now);
    this.drawPanel(frame, state);
  }

  private drawBars(frame: Buffer, now: number): void {
    const phase = (now % BAR_SCROLL_PERIOD_MS) / BAR_SCROLL_PERIOD_MS;
    const offset = Math.floor((phase * this.barPeriod) / 2) * 2;
    for (let y = 0; y < this.height; y++) this.yRow.copy(frame, y * this.width, offset, offset + this.width);
    const cOffset = offset >> 1;
    for (let y = 0; y < this.ch; y++) {
      this.uRow.copy(frame, this.uBase + y * this.cw, cOffset, cOffset + this.cw);
      this.vRow.copy(frame, this.vBase + y * this.cw, cOffset, cOffset + this.cw);
    }
  }

  /** A box bouncing off the edges; its position is a function of time, not of frame count. */
  private drawBox(frame: Buffer, now: number): void {
    const size = Math.max(2, Math.floor(Math.min(this.width, this.height) / 6 / 2) * 2);
    const tri = (periodMs: number): number => {
      const p = (now % periodMs) / periodMs;
      return p < 0.5 ? p * 2 : 2 - p * 2;
    };
    const top = this.layout.panelBottom;
    const x0 = Math.floor((tri(3100) * Math.max(0, this.width - size)) / 2) * 2;
    const y0 = top + Math.floor((tri(2300) * Math.max(0, this.height - top - size)) / 2) * 2;
    this.fillRect(frame, x0, y0, size, size, 210, 60, 200);
  }

  private drawPanel(frame: Buffer, state: PatternState): void {
    const l = this.layout;
    this.fillRect(frame, 0, l.panelTop, this.width, l.panelBottom - l.panelTop, PANEL_LUMA, 128, 128);
    const input = state.lastInput ?? '(none yet)';
    const inputLines = wrap(`INPUT ${input}`, l.columns, 2);
    const lines = [
      this.title,
      `TIME ${clock(state.now)}`,
      `FRAME ${String(state.frameNumber).padStart(7, '0')}  DROPPED ${state.droppedFrames}`,
      inputLines[0] ?? '',
      inputLines[1] ?? '',
    ];
    lines.forEach((text, i) => this.drawText(frame, l.x, l.lineTops[i], text.slice(0, l.columns)));
  }

  private drawText(frame: Buffer, x: number, y: number, text: string): void {
    const s = this.layout.scale;
    for (let i = 0; i < text.length; i++) {
      const cols = glyphColumns(text.charCodeAt(i));
      const gx = x + i * GLYPH_ADVANCE * s;
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        const bits = cols[c];
        if (bits === 0) continue;
        for (let r = 0; r < GLYPH_HEIGHT; r++) {
          if ((bits >> r) & 1) this.fillLuma(frame, gx + c * s, y + r * s, s, s, TEXT_LUMA);
        }
      }
    }
  }

  private fillLuma(frame: Buffer, x: number, y: number, w: number, h: number, luma: number): void {
    const x1 = Math.min(this.width, x + w);
    const y1 = Math.min(this.height, y + h);
    if (x >= x1) return;
    for (let yy = Math.max(0, y); yy < y1; yy++) frame.fill(luma, yy * this.width + x, yy * this.width + x1);
  }

  private fillRect(frame: Buffer, x: number, y: number, w: number, h: number, luma: number, u: number, v: number): void {
    this.fillLuma(frame, x, y, w, h, luma);
    const cx0 = x >> 1;
    const cx1 = Math.min(this.cw, (x + w + 1) >> 1);
    const cy1 = Math.min(this.ch, (y + h + 1) >> 1);
    if (cx0 >= cx1) return;
    for (let cy = Math.max(0, y >> 1); cy < cy1; cy++) {
      frame.fill(u, this.uBase + cy * this.cw + cx0, this.uBase + cy * this.cw + cx1);
      frame.fill(v, this.vBase + cy * this.cw + cx0, this.vBase + cy * this.cw + cx1);
    }
  }
}

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function wrap(text: string, columns: number, maxLines: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < text.length && out.length < maxLines; at += columns) out.push(text.slice(at, at + columns));
  return out;
}
