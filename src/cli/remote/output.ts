/**
 * Printing for the remote verbs. Everything goes through `terminal`, so that specs can
 * capture it without touching the real process streams.
 */

export const terminal = {
  /** One line of normal output (stdout). */
  out(line: string): void {
    process.stdout.write(`${line}\n`);
  },
  /** One line of diagnostics (stderr). */
  err(line: string): void {
    process.stderr.write(`${line}\n`);
  },
};

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  /** Numbers read better right-aligned. */
  align?: 'left' | 'right';
}

/** Aligned columns separated by two spaces, headers first; no trailing spaces. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cellText(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

export function printTable<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
  terminal.out(formatTable(rows, columns));
}

/** `key: value` lines with the values aligned, for `show` verbs. */
export function printFields(fields: ReadonlyArray<[string, string | number | boolean | null | undefined]>): void {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  for (const [k, v] of fields) terminal.out(`${`${k}:`.padEnd(width)} ${cellText(v)}`);
}

export function printJson(value: unknown): void {
  terminal.out(JSON.stringify(value ?? null, null, 2));
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units: 512 MiB, 1.5 GiB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '-';
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || Math.abs(value) >= 100 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${UNITS[unit]}`;
}

/** ISO timestamps without the milliseconds, which only add noise in a table. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace(/\.\d+(?=Z|[+-]\d\d:?\d\d$)/, '');
}

export function formatScreen(screen: { width?: number; height?: number; fps?: number } | null | undefined): string {
  if (!screen || !screen.width || !screen.height) return '-';
  return `${screen.width}x${screen.height}${screen.fps ? `@${screen.fps}` : ''}`;
}

function cellText(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}
