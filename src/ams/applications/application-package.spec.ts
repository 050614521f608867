import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { crc32, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { DomainError } from '@streamstack/contracts';
import { readApplicationPackage, type PackageLimits } from './application-package';

// ---------------------------------------------------------------------------------------
// Archive builders. Hand-made archives can hold what well-behaved tools refuse to write.

type TarType = 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
interface TarItem {
  path: string;
  type?: TarType;
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
}

function tarGz(items: TarItem[], trailer = Buffer.alloc(1024)): Buffer {
  const blocks: Buffer[] = [];
  for (const item of items) {
    const type = item.type ?? 'File';
    const body = Buffer.from(item.body ?? '');
    const header = Buffer.alloc(512);
    new Header({
      path: item.path,
      type,
      size: type === 'File' ? body.length : 0,
      mode: item.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      linkpath: item.linkpath,
      uid: 0,
      gid: 0,
      mtime: new Date(0),
    }).encode(header, 0);
    blocks.push(header);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  return gzipSync(Buffer.concat([...blocks, trailer]));
}

interface ZipItem {
  name: string;
  body?: string | Buffer;
  /** Unix st_mode stored in the external attributes. */
  mode?: number;
  store?: boolean;
  /** Lie about the uncompressed size. */
  declaredSize?: number;
}

/** Minimal zip writer: local headers, central directory, end record (no zip64). */
function zip(items: ZipItem[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const item of items) {
    const name = Buffer.from(item.name, 'utf8');
    const body = Buffer.from(item.body ?? '');
    const data = item.store ? body : deflateRawSync(body);
    const method = item.store ? 0 : 8;
    const size = item.declaredSize ?? body.length;
    const crc = crc32(body);
    const mode = item.mode ?? (item.name.endsWith('/') ? 0o040755 : 0o100644);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10); // time, date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(items.length, 8);
  end.writeUInt16LE(items.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const MANIFEST = 'name: demo\nkind: x11\ncommand: bin/run\ndisplay: {width: 1920, height: 1080, fps: 60}\n';
const HAS_ZIP_TOOL = existsSync('/usr/bin/zip');

// ---------------------------------------------------------------------------------------

let work: string;
let parent: string;
let dest: string;

beforeEach(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'app-package-'));
  parent = path.join(work, 'apps');
  dest = path.join(parent, 'demo', '1');
});

afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** A source folder on disk, for the system tar and zip tools. */
async function sourceTree(
  root: string,
  files: Record<string, string | Buffer>,
  executables: string[] = [],
): Promise<void> {
  for (const [name, body] of Object.entries(files)) {
    const file = path.join(root, name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, body);
    if (executables.includes(name)) await fs.chmod(file, 0o755);
  }
}

/** Lists everything under `dir`, recursively; [] when it does not exist. */
async function leftovers(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await fs.readdir(dir, { recursive: true })).map(String);
}

/** Expects an invalid_argument (or `code`) rejection and that nothing was left behind. */
async function expectRejected(
  data: Buffer,
  message: string | RegExp,
  limits?: Partial<PackageLimits>,
  code = 'invalid_argument',
): Promise<void> {
  const error = await readApplicationPackage(data, dest, limits).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  expect((error as DomainError).message).toMatch(message);
  expect(existsSync(dest)).toBe(false);
  // Neither the destination nor the temporary sibling survive.
  expect(await leftovers(path.dirname(dest))).toEqual([]);
}

describe('readApplicationPackage: valid packages', () => {
  it('extracts a .tar.gz made by tar, keeping contents and the executable bit', async () => {
    const src = path.join(work, 'src');
    const program = randomBytes(3 * 1024 * 1024 + 123); // several chunks, odd size
    const deep = `deep/${'d'.repeat(120)}/${'f'.repeat(130)}.txt`; // needs GNU/pax long names
    await sourceTree(
      src,
      { 'manifest.yaml': MANIFEST, 'bin/run': program, 'assets/readme.txt': 'hello', empty: '', [deep]: 'deep' },
      ['bin/run'],
    );
    const archive = path.join(work, 'demo.tar.gz');
    execFileSync('tar', ['czf', archive, '-C', src, '.']);

    const result = await readApplicationPackage(await fs.readFile(archive), dest);

    expect(result.manifest).toEqual({
      name: 'demo',
      kind: 'x11',
      command: 'bin/run',
      display: { width: 1920, height: 1080, fps: 60 },
      resources: { cpus: 1, memory: 512_000_000 },
      encoder: { codec: 'h264', bitrate_kbps: 4000, gop: 120 },
      network: 'none',
      env: {},
    });
    expect(result.files).toEqual(['assets/readme.txt', 'bin/run', deep, 'empty', 'manifest.yaml']);
    expect((await fs.readFile(path.join(dest, 'bin/run'))).equals(program)).toBe(true);
    expect(await fs.readFile(path.join(dest, deep), 'utf8')).toBe('deep');
    expect(await fs.readFile(path.join(dest, 'empty'), 'utf8')).toBe('');
    expect((await fs.stat(dest)).mode & 0o777).toBe(0o755);
    expect(await fs.readFile(path.join(dest, 'assets/readme.txt'), 'utf8')).toBe('hello');
    expect((await fs.stat(path.join(dest, 'bin/run'))).mode & 0o777).toBe(0o755);
    expect((await fs.stat(path.join(dest, 'assets/readme.txt'))).mode & 0o777).toBe(0o644);
    expect(await fs.readdir(path.dirname(dest))).toEqual(['1']); // no temp sibling left
  });

  it('strips a single top-level folder wrapping the package', async () => {
    const src = path.join(work, 'src');
    await sourceTree(src, { 'my-app/manifest.yml': MANIFEST, 'my-app/bin/run': '#!/bin/sh\n' });
    const archive = path.join(work, 'demo.tgz');
    execFileSync('tar', ['czf', archive, '-C', src, 'my-app']);

    const result = await readApplicationPackage(await fs.readFile(archive), dest);

    expect(result.manifest.name).toBe('demo');
    expect(result.files).toEqual(['bin/run', 'manifest.yml']);
    expect(await fs.readFile(path.join(dest, 'bin/run'), 'utf8')).toBe('#!/bin/sh\n');
    expect(await fs.readdir(path.dirname(dest))).toEqual(['1']);
  });

  (HAS_ZIP_TOOL ? it : it.skip)('extracts a .zip made by zip', async () => {
    const src = path.join(work, 'src');
    const program = randomBytes(2 * 1024 * 1024 + 7);
    await sourceTree(src, { 'manifest.yaml': MANIFEST, 'bin/run': program, 'lib/a/b.txt': 'b' }, ['bin/run']);
    const archive = path.join(work, 'demo.zip');
    execFileSync('zip', ['-qr', archive, '.'], { cwd: src });

    const result = await readApplicationPackage(await fs.readFile(archive), dest);

    expect(result.manifest.command).toBe('bin/run');
    expect(result.files).toEqual(['bin/run', 'lib/a/b.txt', 'manifest.yaml']);
    expect((await fs.readFile(path.join(dest, 'bin/run'))).equals(program)).toBe(true);
    expect((await fs.stat(path.join(dest, 'bin/run'))).mode & 0o777).toBe(0o755);
  });

  it('extracts a hand-made .zip (deflated and stored entries, __MACOSX skipped)', async () => {
    const data = zip([
      { name: 'manifest.yaml', body: 'name: pattern\nkind: test-pattern\n' },
      { name: 'data/', mode: 0o040755 },
      { name: 'data/raw.bin', body: Buffer.alloc(1000, 7), store: true },
      { name: 'data/empty', store: true },
      { name: '__MACOSX/._manifest.yaml', body: 'junk' },
    ]);
    const result = await readApplicationPackage(data, dest);
    expect(result.manifest.kind).toBe('test-pattern');
    expect(result.files).toEqual(['data/empty', 'data/raw.bin', 'manifest.yaml']);
    expect((await fs.readFile(path.join(dest, 'data/raw.bin'))).equals(Buffer.alloc(1000, 7))).toBe(true);
    expect(existsSync(path.join(dest, '__MACOSX'))).toBe(false);
  });

  it('handles many small entries', async () => {
    const items: TarItem[] = [{ path: 'manifest.yaml', body: MANIFEST }];
    for (let i = 0; i < 300; i++) items.push({ path: `files/f${i}.txt`, body: `file ${i}` });
    const result = await readApplicationPackage(tarGz(items), dest);
    expect(result.files).toHaveLength(301);
    expect(await fs.readFile(path.join(dest, 'files/f299.txt'), 'utf8')).toBe('file 299');
  });

  it('fills an empty destination folder that already exists', async () => {
    await fs.mkdir(dest, { recursive: true });
    await readApplicationPackage(tarGz([{ path: 'manifest.yaml', body: MANIFEST }]), dest);
    expect(await fs.readdir(dest)).toEqual(['manifest.yaml']);
  });
});

describe('readApplicationPackage: refused packages leave nothing behind', () => {
  const manifest: TarItem = { path: 'manifest.yaml', body: MANIFEST };

  it('refuses data that is not an archive', async () => {
    await expectRejected(Buffer.from('just some text'), 'package must be a .tar.gz or .zip archive');
    await expectRejected(Buffer.alloc(0), 'package must be a .tar.gz or .zip archive');
  });

  it('refuses a gzip that holds no tar', async () => {
    await expectRejected(
      gzipSync(Buffer.from('hello '.repeat(200))),
      'package is gzip-compressed but does not hold a tar archive',
    );
    await expectRejected(gzipSync(Buffer.from('tiny')), 'package is gzip-compressed but does not hold a tar archive');
  });

  it('refuses a truncated or corrupt .tar.gz', async () => {
    const data = tarGz([manifest, { path: 'big.bin', body: randomBytes(200_000) }]);
    await expectRejected(
      data.subarray(0, data.length - 5000),
      /^package is not a valid gzip stream: unexpected end of file$/,
    );

    // Whole gzip, truncated tar inside it.
    const tar = Buffer.from(gunzipSync(tarGz([manifest, { path: 'big.bin', body: randomBytes(200_000) }])));
    await expectRejected(gzipSync(tar.subarray(0, 100_000)), /^package is not a valid tar archive: .*Truncated input/);

    // A header whose checksum does not match.
    const corrupt = Buffer.from(gunzipSync(tarGz([manifest, { path: 'b.txt', body: 'b' }])));
    corrupt[1024 + 10] ^= 0xff; // inside the second header's name
    await expectRejected(gzipSync(corrupt), /^package is not a valid tar archive: .*checksum failure/);
  });

  it('refuses a corrupt .zip', async () => {
    const data = zip([{ name: 'manifest.yaml', body: MANIFEST }]);
    await expectRejected(data.subarray(0, data.length - 10), /^package is not a valid zip archive/);
  });

  it('answers payload_too_large over the package size limit', async () => {
    const data = tarGz([manifest]);
    await expectRejected(
      data,
      /^package is \d+ bytes, more than the 100 bytes allowed$/,
      { packageBytes: 100 },
      'payload_too_large',
    );
  });

  it('refuses a package without a manifest', async () => {
    await expectRejected(
      tarGz([{ path: 'bin/run', body: 'x' }]),
      'package has no manifest.yaml or manifest.yml at its root',
    );
    await expectRejected(
      zip([{ name: 'readme.txt', body: 'x' }]),
      'package has no manifest.yaml or manifest.yml at its root',
    );
    // Two levels down is not the root.
    await expectRejected(
      tarGz([{ path: 'a/b/manifest.yaml', body: MANIFEST }]),
      'package has no manifest.yaml or manifest.yml at its root',
    );
    // A wrapper folder is only stripped when it is the only thing at the top.
    await expectRejected(
      tarGz([
        { path: 'app/manifest.yaml', body: MANIFEST },
        { path: 'other.txt', body: 'x' },
      ]),
      'package has no manifest.yaml or manifest.yml at its root',
    );
  });

  it('refuses a manifest folder and two manifests', async () => {
    await expectRejected(tarGz([{ path: 'manifest.yaml/', type: 'Directory' }]), 'manifest.yaml must be a file');
    await expectRejected(
      tarGz([manifest, { path: 'manifest.yml', body: MANIFEST }]),
      'package holds both manifest.yaml and manifest.yml; keep one',
    );
  });

  it('refuses malformed YAML, naming the line', async () => {
    await expectRejected(
      tarGz([{ path: 'manifest.yaml', body: 'name: demo\nkind: x11\ndisplay: [1,\ncommand: x\n' }]),
      /^manifest\.yaml is not valid YAML: .* at line \d+, column \d+$/,
    );
    await expectRejected(
      tarGz([{ path: 'manifest.yaml', body: 'name: a\nname: b\n' }]),
      'manifest.yaml is not valid YAML: Map keys must be unique at line 2, column 1',
    );
  });

  it('refuses an oversized manifest', async () => {
    await expectRejected(
      tarGz([{ path: 'manifest.yaml', body: `${MANIFEST}# ${'x'.repeat(200)}\n` }]),
      /^manifest\.yaml is \d+ bytes, more than the 128 bytes allowed$/,
      { manifestBytes: 128 },
    );
  });

  it('refuses an invalid manifest, naming every field', async () => {
    await expectRejected(
      tarGz([{ path: 'manifest.yaml', body: 'name: Demo\nkind: test-pattern\ndisplay: {width: 5000}\nfoo: 1\n' }]),
      'invalid manifest.yaml: unknown field "foo"; name must be lowercase letters, digits, "-", "_" or ".", ' +
        'starting with a letter or digit; display.width must not be greater than 3840',
    );
    await expectRejected(
      zip([{ name: 'manifest.yaml', body: 'name: demo\nkind: test-pattern\ndisplay: {width: 640}\n' }]),
      'invalid manifest.yaml: display.width must be at least 768 for kind test-pattern',
    );
    await expectRejected(zip([{ name: 'manifest.yaml', body: '' }]), 'invalid manifest.yaml: it must be an object');
  });

  it('refuses ".." entries', async () => {
    await expectRejected(
      tarGz([manifest, { path: '../evil', body: 'x' }]),
      'package entry "../evil" has a ".." segment',
    );
    await expectRejected(
      tarGz([manifest, { path: 'a/../../evil', body: 'x' }]),
      'package entry "a/../../evil" has a ".." segment',
    );
    await expectRejected(
      zip([
        { name: 'manifest.yaml', body: MANIFEST },
        { name: '../evil', body: 'x' },
      ]),
      'package entry "../evil" has a ".." segment',
    );
    // Backslashes are separators in zips (Windows tools): still caught.
    await expectRejected(
      zip([
        { name: 'manifest.yaml', body: MANIFEST },
        { name: '..\\evil', body: 'x' },
      ]),
      'package entry "../evil" has a ".." segment',
    );
    expect(existsSync(path.join(parent, 'demo', 'evil'))).toBe(false);
    expect(existsSync(path.join(parent, 'evil'))).toBe(false);
  });

  it('refuses absolute paths', async () => {
    await expectRejected(
      tarGz([manifest, { path: '/tmp/evil', body: 'x' }]),
      'package entry "/tmp/evil" is an absolute path',
    );
    await expectRejected(
      zip([
        { name: 'manifest.yaml', body: MANIFEST },
        { name: '/etc/evil', body: 'x' },
      ]),
      'package entry "/etc/evil" is an absolute path',
    );
    await expectRejected(
      zip([
        { name: 'manifest.yaml', body: MANIFEST },
        { name: 'C:/evil', body: 'x' },
      ]),
      'package entry "C:/evil" is an absolute path',
    );
  });

  it('refuses backslashes and control characters in tar names', async () => {
    await expectRejected(
      tarGz([manifest, { path: 'a\\b', body: 'x' }]),
      'package entry "a\\\\b" has a backslash in its name',
    );
    await expectRejected(
      tarGz([manifest, { path: 'a\nb', body: 'x' }]),
      'package entry "a\\nb" has control characters in its name',
    );
  });

  it('refuses symbolic links', async () => {
    await expectRejected(
      tarGz([manifest, { path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' }]),
      'package entry "link" is a symbolic link; packages may hold only files and folders',
    );
    await expectRejected(
      zip([
        { name: 'manifest.yaml', body: MANIFEST },
        { name: 'link', body: '/etc/passwd', mode: 0o120777, store: true },
      ]),
      'package entry "link" is a symbolic link',
    );
  });

  (HAS_ZIP_TOOL ? it : it.skip)('refuses a symbolic link stored by zip --symlinks', async () => {
    const src = path.join(work, 'src');
    await sourceTree(src, { 'manifest.yaml': MANIFEST });
    await fs.symlink('/etc/passwd', path.join(src, 'passwd'));
    const archive = path.join(work, 'link.zip');
    execFileSync('zip', ['-qry', archive, '.'], { cwd: src });
    await expectRejected(await fs.readFile(archive), 'package entry "passwd" is a symbolic link');
  });

  it('refuses hard links, devices and FIFOs', async () => {
    await expectRejected(
      tarGz([manifest, { path: 'hard', type: 'Link', linkpath: 'manifest.yaml' }]),
      'package entry "hard" is a hard link; packages may hold only files and folders',
    );
    await expectRejected(
      tarGz([manifest, { path: 'dev', type: 'CharacterDevice' }]),
      'package entry "dev" is a device',
    );
    await expectRejected(tarGz([manifest, { path: 'pipe', type: 'FIFO' }]), 'package entry "pipe" is a FIFO');
    await expectRejected(
      zip([
        { name: 'manifest.yaml', body: MANIFEST },
        { name: 'pipe', mode: 0o010644, store: true },
      ]),
      'package entry "pipe" is a special file',
    );
  });

  it('refuses duplicate and conflicting entries', async () => {
    await expectRejected(
      tarGz([manifest, { path: 'a.txt', body: '1' }, { path: './a.txt', body: '2' }]),
      'package holds "./a.txt" twice',
    );
    await expectRejected(
      tarGz([manifest, { path: 'd/', type: 'Directory' }, { path: 'd', type: 'Directory' }]),
      'package holds "d" twice',
    );
    await expectRejected(
      zip([
        { name: 'manifest.yaml', body: MANIFEST },
        { name: 'manifest.yaml', body: 'name: other\nkind: test-pattern\n' },
      ]),
      'package holds "manifest.yaml" twice',
    );
    await expectRejected(
      tarGz([manifest, { path: 'a', body: '1' }, { path: 'a/b', body: '2' }]),
      'package entry "a/b" is inside "a", which is a file',
    );
    await expectRejected(
      tarGz([manifest, { path: 'a/b', body: '1' }, { path: 'a', body: '2' }]),
      'package entry "a" is both a file and a folder',
    );
  });

  it('refuses too many entries', async () => {
    const items: TarItem[] = [manifest];
    for (let i = 0; i < 10; i++) items.push({ path: `f${i}`, body: 'x' });
    await expectRejected(tarGz(items), 'package holds more than 10 entries (limit reached at "f9")', {
      packageEntries: 10,
    });
    const zipItems: ZipItem[] = items.map((item) => ({ name: item.path, body: item.body }));
    await expectRejected(zip(zipItems), 'package holds 11 entries, more than the 10 allowed', { packageEntries: 10 });
  });

  it('stops a .tar.gz bomb by counting extracted bytes', async () => {
    const data = tarGz([manifest, { path: 'zeros.bin', body: Buffer.alloc(4 * 1024 * 1024) }]);
    expect(data.length).toBeLessThan(20_000);
    await expectRejected(
      data,
      'package expands to more than 1048576 bytes (limit reached while extracting "zeros.bin")',
      {
        packageExtractedBytes: 1024 * 1024,
      },
    );
  });

  it('stops a .tar.gz whose tar stream goes on past the cap', async () => {
    // A header declaring an enormous body: the stream cap stops inflating long before.
    const header = Buffer.alloc(512);
    new Header({ path: 'huge.bin', type: 'File', size: 8 ** 11 - 1, mode: 0o644, mtime: new Date(0) }).encode(
      header,
      0,
    );
    const data = gzipSync(Buffer.concat([header, Buffer.alloc(8 * 1024 * 1024)]));
    await expectRejected(data, /^package expands to more than \d+ bytes/, {
      packageExtractedBytes: 64 * 1024,
      packageEntries: 10,
    });
  });

  it('stops a zip bomb, whether its headers are honest or lie', async () => {
    const limits = { packageExtractedBytes: 1024 * 1024 };
    const honest = zip([
      { name: 'manifest.yaml', body: MANIFEST },
      { name: 'zeros.bin', body: Buffer.alloc(4 * 1024 * 1024) },
    ]);
    expect(honest.length).toBeLessThan(20_000);
    await expectRejected(
      honest,
      'package expands to more than 1048576 bytes ("zeros.bin" alone declares 4194304)',
      limits,
    );

    const lying = zip([
      { name: 'manifest.yaml', body: MANIFEST },
      { name: 'zeros.bin', body: Buffer.alloc(4 * 1024 * 1024), declaredSize: 1000 },
    ]);
    await expectRejected(lying, /^package entry "zeros\.bin" is corrupt: too many bytes in the stream/, limits);
  });

  it('stops at the extracted limit summed over entries', async () => {
    const items: ZipItem[] = [{ name: 'manifest.yaml', body: MANIFEST }];
    for (let i = 0; i < 5; i++) items.push({ name: `part${i}.bin`, body: Buffer.alloc(300_000) });
    await expectRejected(
      zip(items),
      /^package expands to more than 1048576 bytes \("part3\.bin" alone declares 300000\)$/,
      {
        packageExtractedBytes: 1024 * 1024,
      },
    );
    const tarItems: TarItem[] = items.map((item) => ({ path: item.name, body: item.body }));
    await expectRejected(
      tarGz(tarItems),
      'package expands to more than 1048576 bytes (limit reached while extracting "part3.bin")',
      {
        packageExtractedBytes: 1024 * 1024,
      },
    );
  });

  it('refuses a destination that is not empty, leaving it untouched', async () => {
    await fs.mkdir(dest, { recursive: true });
    await fs.writeFile(path.join(dest, 'keep.txt'), 'mine');
    const error = await readApplicationPackage(tarGz([manifest]), dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('conflict');
    expect(await fs.readdir(dest)).toEqual(['keep.txt']);
    expect(await fs.readdir(path.dirname(dest))).toEqual(['1']);
  });
});
