import { DomainError } from '@streamstack/contracts';
import { parseMemory, validateManifest, type Manifest } from './manifest.dto';

async function rejection(raw: unknown): Promise<DomainError> {
  try {
    await validateManifest(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid_argument');
    return error as DomainError;
  }
  throw new Error('expected validateManifest to reject');
}

describe('validateManifest', () => {
  it('fills every default for a minimal test-pattern manifest', async () => {
    const manifest = await validateManifest({ name: 'pattern', kind: 'test-pattern' });
    expect(manifest).toEqual<Manifest>({
      name: 'pattern',
      kind: 'test-pattern',
      display: { width: 1280, height: 720, fps: 30 },
      resources: { cpus: 1, memory: 512_000_000 },
      encoder: { codec: 'h264', bitrate_kbps: 4000, gop: 60 },
    });
    expect(manifest).not.toHaveProperty('version');
    expect(manifest).not.toHaveProperty('command');
  });

  it('keeps given values and fills only missing fields of a block', async () => {
    const manifest = await validateManifest({
      name: 'game_1.x',
      version: 3,
      kind: 'x11',
      command: 'bin/game --fullscreen',
      display: { width: 1920, height: 1080, fps: 60 },
      resources: { memory: '2GiB' },
      encoder: { bitrate_kbps: 8000 },
    });
    expect(manifest).toEqual({
      name: 'game_1.x',
      version: 3,
      kind: 'x11',
      command: 'bin/game --fullscreen',
      display: { width: 1920, height: 1080, fps: 60 },
      resources: { cpus: 1, memory: 2 * 2 ** 30 },
      encoder: { codec: 'h264', bitrate_kbps: 8000, gop: 120 },
      network: 'none',
      env: {},
    });
  });

  it('keeps an x11 application\'s network and env', async () => {
    const manifest = await validateManifest({ name: 'a', kind: 'x11', command: 'run', network: 'outbound', env: { GDK_SCALE: '2', PATH: '/app/bin:/usr/bin' } });
    expect(manifest).toMatchObject({ network: 'outbound', env: { GDK_SCALE: '2', PATH: '/app/bin:/usr/bin' } });
  });

  it('fills a partial display', async () => {
    const manifest = await validateManifest({ name: 'a', kind: 'test-pattern', display: { width: 1024 } });
    expect(manifest.display).toEqual({ width: 1024, height: 720, fps: 30 });
  });

  it('treats YAML nulls (empty keys) as absent', async () => {
    const manifest = await validateManifest({
      name: 'a',
      kind: 'test-pattern',
      version: null,
      display: null,
      encoder: null,
    });
    expect(manifest.display).toEqual({ width: 1280, height: 720, fps: 30 });
    expect(manifest.encoder.gop).toBe(60);
    expect(manifest).not.toHaveProperty('version');
  });

  it('is idempotent: a normalised manifest validates to itself', async () => {
    const once = await validateManifest({
      name: 'a',
      kind: 'x11',
      command: 'run',
      resources: { memory: '1GB', cpus: 2 },
    });
    await expect(validateManifest(once)).resolves.toEqual(once);
  });

  it('returns a plain object', async () => {
    const manifest = await validateManifest({ name: 'a', kind: 'test-pattern' });
    expect(Object.getPrototypeOf(manifest)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(manifest.display)).toBe(Object.prototype);
  });

  it('names every offending field with its path in one message', async () => {
    const error = await rejection({
      name: 'ok',
      kind: 'x11',
      command: 'run',
      display: { width: 4000, height: 0, fps: 61, depth: 24 },
      resources: { cpus: 0, memory: '12XB' },
      encoder: { codec: 'vp8', bitrate_kbps: 50, gop: 601 },
      foo: 1,
    });
    const message = error.message;
    expect(message).toMatch(/^invalid manifest: /);
    for (const part of [
      'display.width must not be greater than 3840',
      'display.height must not be less than 1',
      'display.fps must not be greater than 60',
      'unknown field "display.depth"',
      'resources.cpus must not be less than 1',
      'resources.memory "12XB" has an unknown unit',
      'encoder.codec must be one of the following values: h264',
      'encoder.bitrate_kbps must not be less than 100',
      'encoder.gop must not be greater than 600',
      'unknown field "foo"',
    ]) {
      expect(message).toContain(part);
    }
    expect(message.split('; ')).toHaveLength(10);
  });

  it('rejects unknown fields at the top level and in blocks', async () => {
    const error = await rejection({ name: 'a', kind: 'test-pattern', extra: true, encoder: { preset: 'fast' } });
    expect(error.message).toBe('invalid manifest: unknown field "extra"; unknown field "encoder.preset"');
  });

  it.each([
    ['a __proto__ key', '{"name":"a","kind":"test-pattern","display":{"__proto__":{"x":1}}}', 'display.__proto__'],
    // It crashed class-transformer ("targetType is not a constructor"): a 500 instead of a 400.
    ['a constructor key in an unknown field', '{"name":"a","kind":"test-pattern","extra":{"constructor":1}}', 'extra.constructor'],
    ['a constructor key deep in a list', '{"name":"a","kind":"test-pattern","x":[{"y":{"constructor":"z"}}]}', 'x[0].y.constructor'],
    ['a prototype key', '{"name":"a","kind":"test-pattern","encoder":{"prototype":{}}}', 'encoder.prototype'],
  ])('rejects %s, naming it', async (_what, json, path) => {
    const error = await rejection(JSON.parse(json));
    expect(error.message).toBe(`invalid manifest: the key "${path}" is not allowed`);
  });

  it.each([
    ['an empty object', {}, ['name must be a string', 'kind must be one of the following values: test-pattern, x11']],
    ['an empty name', { name: '', kind: 'x11', command: 'a' }, ['name must be lowercase letters, digits']],
    [
      'a long name',
      { name: 'a'.repeat(65), kind: 'x11', command: 'a' },
      ['name must be shorter than or equal to 64 characters'],
    ],
    ['an uppercase name', { name: 'MyApp', kind: 'x11', command: 'a' }, ['name must be lowercase letters, digits']],
    ['a name starting with -', { name: '-a', kind: 'x11', command: 'a' }, ['name must be lowercase letters, digits']],
    ['a name with /', { name: 'a/b', kind: 'x11', command: 'a' }, ['name must be lowercase letters, digits']],
    [
      'an unknown kind',
      { name: 'a', kind: 'android', command: 'a' },
      ['kind must be one of the following values: test-pattern, x11'],
    ],
    ['x11 without command', { name: 'a', kind: 'x11' }, ['command is required for kind x11']],
    ['a blank command', { name: 'a', kind: 'x11', command: '  ' }, ['command must not be empty']],
    ['a non-string command', { name: 'a', kind: 'x11', command: 42 }, ['command must be a string']],
    [
      'a long command',
      { name: 'a', kind: 'x11', command: 'x'.repeat(4097) },
      ['command must be shorter than or equal to 4096 characters'],
    ],
    [
      'test-pattern with a command',
      { name: 'a', kind: 'test-pattern', command: 'run' },
      ['command is not allowed for kind test-pattern'],
    ],
    ['version 0', { name: 'a', kind: 'x11', command: 'a', version: 0 }, ['version must not be less than 1']],
    [
      'a fractional version',
      { name: 'a', kind: 'x11', command: 'a', version: 1.5 },
      ['version must be an integer number'],
    ],
    ['a string display', { name: 'a', kind: 'x11', command: 'a', display: 'hd' }, ['display must be an object']],
    ['an array display', { name: 'a', kind: 'x11', command: 'a', display: [1, 2] }, ['display must be an object']],
    [
      'a string width',
      { name: 'a', kind: 'x11', command: 'a', display: { width: '1280' } },
      ['display.width must be an integer number'],
    ],
    [
      'fractional cpus',
      { name: 'a', kind: 'x11', command: 'a', resources: { cpus: 1.5 } },
      ['resources.cpus must be an integer number'],
    ],
    [
      'negative memory',
      { name: 'a', kind: 'x11', command: 'a', resources: { memory: -5 } },
      ['resources.memory -5 must be greater than zero'],
    ],
    [
      'a high bitrate',
      { name: 'a', kind: 'x11', command: 'a', encoder: { bitrate_kbps: 60000 } },
      ['encoder.bitrate_kbps must not be greater than 50000'],
    ],
    [
      'a rate range upside down',
      { name: 'a', kind: 'x11', command: 'a', encoder: { min_bitrate_kbps: 3000, max_bitrate_kbps: 1000 } },
      ['encoder.max_bitrate_kbps must not be less than min_bitrate_kbps'],
    ],
    [
      'rate limits of the wrong type or range',
      { name: 'a', kind: 'x11', command: 'a', encoder: { min_bitrate_kbps: '1000', max_bitrate_kbps: 60000 } },
      ['encoder.min_bitrate_kbps', 'encoder.max_bitrate_kbps must not be greater than 50000'],
    ],
    ['an unknown network', { name: 'a', kind: 'x11', command: 'a', network: 'host' }, ['network must be one of the following values: none, outbound']],
    ['test-pattern with a network', { name: 'a', kind: 'test-pattern', network: 'outbound' }, ['network is for kind x11 only']],
    ['env as a list', { name: 'a', kind: 'x11', command: 'a', env: ['A=1'] }, ['env must be an object of NAME: "value" pairs']],
    ['an env name with =', { name: 'a', kind: 'x11', command: 'a', env: { 'A=B': '1' } }, ['env name "A=B" must be letters, digits and _']],
    ['an env value that is not a string', { name: 'a', kind: 'x11', command: 'a', env: { DEBUG: 1 } }, ['env DEBUG must be a string']],
    ['an env replacing DISPLAY', { name: 'a', kind: 'x11', command: 'a', env: { DISPLAY: ':0' } }, ['env DISPLAY is set by the node']],
    ['an env in the node\'s namespace', { name: 'a', kind: 'x11', command: 'a', env: { STREAMSTACK_ADMIN_TOKEN: 'x' } }, ['env STREAMSTACK_ADMIN_TOKEN is set by the node']],
    ['a long env value', { name: 'a', kind: 'x11', command: 'a', env: { A: 'x'.repeat(4097) } }, ['env A must be shorter than or equal to 4096 characters']],
    ['too many env variables', { name: 'a', kind: 'x11', command: 'a', env: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`V${i}`, ''])) }, ['env must have at most 64 variables']],
  ])('rejects %s', async (_label, raw, parts) => {
    const error = await rejection(raw);
    for (const part of parts) expect(error.message).toContain(part);
  });

  it('keeps the rate controller limits when given, and leaves them to the screen when not', async () => {
    const given = await validateManifest({ name: 'a', kind: 'test-pattern', encoder: { min_bitrate_kbps: 500, max_bitrate_kbps: 2500 } });
    expect(given.encoder).toEqual({ codec: 'h264', bitrate_kbps: 4000, gop: 60, min_bitrate_kbps: 500, max_bitrate_kbps: 2500 });
    expect(await validateManifest(given)).toEqual(given);
    expect((await validateManifest({ name: 'a', kind: 'test-pattern' })).encoder).not.toHaveProperty('min_bitrate_kbps');
  });

  it('requires test-pattern displays to fit the timestamp strip', async () => {
    const narrow = await rejection({ name: 'a', kind: 'test-pattern', display: { width: 640, height: 480 } });
    expect(narrow.message).toBe(
      'invalid manifest: display.width must be at least 768 for kind test-pattern (its timestamp strip needs 768x16 pixels)',
    );
    const both = await rejection({ name: 'a', kind: 'test-pattern', display: { width: 100, height: 8 } });
    expect(both.message).toContain('display.width must be at least 768 for kind test-pattern');
    expect(both.message).toContain('display.height must be at least 16 for kind test-pattern');
    // x11 has no such floor.
    await expect(
      validateManifest({ name: 'a', kind: 'x11', command: 'a', display: { width: 640, height: 8 } }),
    ).resolves.toBeDefined();
    await expect(
      validateManifest({ name: 'a', kind: 'test-pattern', display: { width: 768, height: 16 } }),
    ).resolves.toBeDefined();
  });

  it('reports a broken fps once, not also as a broken default gop', async () => {
    const error = await rejection({ name: 'a', kind: 'test-pattern', display: { fps: 500 } });
    expect(error.message).toBe('invalid manifest: display.fps must not be greater than 60');
  });

  it.each([null, [], 'name: a', 42])('rejects a manifest that is not an object: %j', async (raw) => {
    const error = await rejection(raw);
    expect(error.message).toBe('invalid manifest: it must be an object (a YAML mapping or a JSON object)');
  });
});

describe('parseMemory', () => {
  it.each<[unknown, number]>([
    ['512MB', 512_000_000],
    ['2GB', 2_000_000_000],
    ['1GiB', 2 ** 30],
    ['256MiB', 256 * 2 ** 20],
    ['64KiB', 65536],
    ['1kb', 1000],
    ['512 mb', 512_000_000],
    ['1.5GB', 1_500_000_000],
    ['0.5KiB', 512],
    ['1048576', 1048576],
    ['100B', 100],
    [1048576, 1048576],
    ['1TiB', 2 ** 40],
  ])('%j is %d bytes', (value, bytes) => {
    expect(parseMemory(value)).toBe(bytes);
  });

  it.each<[unknown, string]>([
    ['12XB', 'memory "12XB" has an unknown unit (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)'],
    ['lots', 'memory "lots" must be a number with an optional unit'],
    ['-1GB', 'memory "-1GB" must be a number with an optional unit'],
    ['', 'memory "" must be a number with an optional unit'],
    ['0MB', 'memory "0MB" must be greater than zero'],
    [0, 'memory 0 must be greater than zero'],
    [1.5, 'memory 1.5 must be a whole number of bytes'],
    [true, 'memory true must be a string such as "512MB" or an integer number of bytes'],
    [{}, 'memory {} must be a string'],
    ['99999999TiB', 'memory "99999999TiB" is too large'],
  ])('rejects %j', (value, message) => {
    expect(() => parseMemory(value)).toThrow(DomainError);
    expect(() => parseMemory(value)).toThrow(message);
  });
});
