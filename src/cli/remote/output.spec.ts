import { formatBytes, formatScreen, formatTable, formatTime } from './output';
import { parseScreen } from './instance.command';
import { instanceIdOf } from './operation';

describe('remote CLI formatting', () => {
  it('aligns columns, right-aligns numbers and shows empty cells as "-"', () => {
    const rows = [
      { name: 'a', n: 5, note: null },
      { name: 'longer', n: 123, note: 'x' },
    ];
    const text = formatTable(rows, [
      { header: 'NAME', value: (r) => r.name },
      { header: 'N', value: (r) => r.n, align: 'right' },
      { header: 'NOTE', value: (r) => r.note },
    ]);
    expect(text.split('\n')).toEqual(['NAME      N  NOTE', 'a         5  -', 'longer  123  x']);
  });

  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(512 * 2 ** 20)).toBe('512 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(formatBytes(512e6)).toBe('488 MiB');
    expect(formatBytes(2 ** 40 * 3)).toBe('3 TiB');
    expect(formatBytes(undefined)).toBe('-');
  });

  it('drops milliseconds from timestamps and formats screens', () => {
    expect(formatTime('2025-01-02T03:04:05.678Z')).toBe('2025-01-02T03:04:05Z');
    expect(formatTime(null)).toBe('-');
    expect(formatScreen({ width: 1280, height: 720, fps: 30 })).toBe('1280x720@30');
    expect(formatScreen(null)).toBe('-');
  });

  it('parses --screen', () => {
    expect(parseScreen('1280x720@30')).toEqual({ width: 1280, height: 720, fps: 30 });
    expect(parseScreen('800x600')).toEqual({ width: 800, height: 600 });
    expect(() => parseScreen('1280*720')).toThrow(/--screen must look like/);
  });

  it("finds the instance id in an operation's resources", () => {
    const op = { id: 'o', description: '', status: 'pending' as const, err: '', created_at: '', updated_at: '' };
    expect(instanceIdOf({ ...op, resources: { instances: ['/ams/1.0/instances/abc'] } })).toBe('abc');
    expect(instanceIdOf({ ...op, resources: {} })).toBeUndefined();
  });
});
