import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import * as YAML from 'yaml';
import * as yauzl from 'yauzl';
import { DomainError, invalid, Limits } from '@streamstack/contracts';
import { validateManifest, type Manifest } from './manifest.dto';

/*
 * Reads an uploaded application package (.tar.gz or .zip holding manifest.yaml and the
 * application's files) into a folder, defensively: uploads are untrusted input.
 *
 * - Only regular files and folders are extracted. Symlinks, hard links, devices and FIFOs are
 *   refused, so nothing extracted can point outside the folder.
 * - Entry names must be relative, without `..`, backslashes or control characters.
 * - Entry count and total extracted bytes are capped; bytes are counted as they are written,
 *   not taken from headers, so lying headers and zip/gzip bombs stop at the cap.
 * - Modes are not taken from the archive: files are 0644, or 0755 when the archive marks them
 *   executable (x11 apps ship their program), folders 0755. Owners and times are not kept.
 * - `__MACOSX/` (Finder's resource-fork folder in zips) is skipped.
 * - If the root holds no manifest but everything sits in one top-level folder that does
 *   (`tar czf app.tgz my-app/`), that folder becomes the package root.
 * - Extraction goes to a temporary sibling of `destDir` that is renamed into place only once
 *   the manifest is valid; on any error nothing is left behind.
 */

export interface PackageLimits {
  /** Largest package as uploaded. Over it: `payload_too_large`. */
  packageBytes: number;
  /** Largest total size of the extracted files. */
  packageExtractedBytes: number;
  /** Most entries (files and folders) in the archive. */
  packageEntries: number;
  /** Largest manifest.yaml. */
  manifestBytes: number;
}

export interface ApplicationPackage {
  manifest: Manifest;
  /** Regular files extracted, relative to `destDir`, `/`-separated, sorted (manifest included). */
  files: string[];
}

export const MANIFEST_FILE_NAMES = ['manifest.yaml', 'manifest.yml'] as const;

const DEFAULT_LIMITS: PackageLimits = {
  packageBytes: Limits.packageBytes,
  packageExtractedBytes: Limits.packageExtractedBytes,
  packageEntries: Limits.packageEntries,
  manifestBytes: Limits.manifestBytes,
};

/** Name limits of common Linux file systems; checked up front for a clear message. */
const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 1024;
/** Tar headers, pax records and padding on top of file contents, per entry. */
const TAR_OVERHEAD_PER_ENTRY = 4096;

/**
 * Extracts `data` (a .tar.gz or .zip) into `destDir` and returns its validated manifest and
 * file list. `destDir` must not exist or be empty; its parent folders are created.
 * Errors: `payload_too_large` (package over `packageBytes`), `invalid_argument` (not an
 * archive, unsafe or over-limit entry, missing or invalid manifest), `conflict` (`destDir`
 * is not empty); anything else (disk full...) is passed through.
 * `limits` overrides the defaults from `Limits` (tests use small ones).
 */
export async function readApplicationPackage(
  data: Buffer,
  destDir: string,
  limits: Partial<PackageLimits> = {},
): Promise<ApplicationPackage> {
  const lim: PackageLimits = { ...DEFAULT_LIMITS, ...limits };
  if (data.length > lim.packageBytes) {
    throw new DomainError(
      'payload_too_large',
      `package is ${data.length} bytes, more than the ${lim.packageBytes} bytes allowed`,
    );
  }
  const format = detectFormat(data);
  const dest = path.resolve(destDir);
  await assertEmptyOrAbsent(dest);
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const temp = await fs.mkdtemp(path.join(path.dirname(dest), `.${path.basename(dest)}.tmp-`));
  try {
    const sink = new ExtractionSink(temp, lim);
    if (format === 'tar.gz') await extractTarGz(data, sink, lim);
    else await extractZip(data, sink, lim);

    const { prefix, manifestName } = findPackageRoot(sink);
    const root = prefix ? path.join(temp, prefix) : temp;
    const manifest = await readManifest(path.join(root, manifestName), manifestName, lim);
    const files = sink.files
      .filter((file) => !prefix || file.startsWith(`${prefix}/`))
      .map((file) => (prefix ? file.slice(prefix.length + 1) : file))
      .sort();

    // mkdtemp made it 0700; the package is meant to be readable by whoever runs the app.
    await fs.chmod(root, 0o755);
    try {
      await fs.rename(root, dest);
    } catch (error) {
      if (isFsError(error, 'ENOTEMPTY') || isFsError(error, 'EEXIST') || isFsError(error, 'ENOTDIR')) {
        throw new DomainError('conflict', `${dest} already exists and is not empty`);
      }
      throw error;
    }
    if (prefix) await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    return { manifest, files };
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
}

function detectFormat(data: Buffer): 'tar.gz' | 'zip' {
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return 'tar.gz';
  if (data.length >= 4 && data.readUInt32LE(0) === 0x04034b50) return 'zip';
  throw invalid('package must be a .tar.gz or .zip archive');
}

async function assertEmptyOrAbsent(dest: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dest);
  } catch (error) {
    if (isFsError(error, 'ENOENT')) return;
    if (isFsError(error, 'ENOTDIR')) throw new DomainError('conflict', `${dest} already exists and is not a folder`);
    throw error;
  }
  if (entries.length > 0) throw new DomainError('conflict', `${dest} already exists and is not empty`);
}

// ---------------------------------------------------------------------------------------
// Where entries land: names, counts, bytes, conflicts

type Kind = 'file' | 'dir' | 'parent';

class ExtractionSink {
  /** Every path seen: files, explicit folders, and folders implied by a deeper entry. */
  readonly kinds = new Map<string, Kind>();
  readonly files: string[] = [];
  private entries = 0;
  private bytes = 0;

  constructor(
    private readonly root: string,
    private readonly lim: PackageLimits,
  ) {}

  /** Counts and checks one entry; its relative path, or null when it is not extracted. */
  admit(rawName: string, kind: 'file' | 'dir'): string | null {
    this.entries += 1;
    if (this.entries > this.lim.packageEntries) {
      throw invalid(`package holds more than ${this.lim.packageEntries} entries (limit reached at ${show(rawName)})`);
    }
    const rel = normaliseEntryPath(rawName);
    if (rel === '' || rel.split('/')[0] === '__MACOSX') return null;

    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join('/');
      const seen = this.kinds.get(ancestor);
      if (seen === 'file') throw invalid(`package entry ${show(rawName)} is inside ${show(ancestor)}, which is a file`);
      if (seen === undefined) this.kinds.set(ancestor, 'parent');
    }
    const seen = this.kinds.get(rel);
    if (seen !== undefined && (kind === 'file' || seen !== 'parent')) {
      throw invalid(
        seen === kind || (seen === 'parent' && kind === 'dir')
          ? `package holds ${show(rawName)} twice`
          : `package entry ${show(rawName)} is both a file and a folder`,
      );
    }
    this.kinds.set(rel, kind);

    // Belt and braces: the name checks above already make this impossible.
    const target = path.resolve(this.root, rel);
    if (!target.startsWith(this.root + path.sep))
      throw invalid(`package entry ${show(rawName)} points outside the package`);
    return rel;
  }

  async mkdir(rel: string): Promise<void> {
    await fs.mkdir(path.join(this.root, rel), { recursive: true, mode: 0o755 });
  }

  /** Writes one file, counting the bytes actually received against the extracted limit. */
  async writeFile(rel: string, source: AsyncIterable<Buffer>, executable: boolean): Promise<void> {
    const target = path.join(this.root, rel);
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    // O_EXCL + O_NOFOLLOW: never write through anything that was already there.
    const handle = await fs.open(
      target,
      fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
      executable ? 0o755 : 0o644,
    );
    try {
      for await (const chunk of source) {
        this.bytes += chunk.length;
        if (this.bytes > this.lim.packageExtractedBytes) {
          throw invalid(
            `package expands to more than ${this.lim.packageExtractedBytes} bytes (limit reached while extracting ${show(rel)})`,
          );
        }
        await handle.write(chunk);
      }
    } finally {
      await handle.close();
    }
    this.files.push(rel);
  }

  /** Early refusal from declared sizes (zip only); actual bytes are still counted. */
  checkDeclared(rel: string, declared: number): void {
    if (this.bytes + declared > this.lim.packageExtractedBytes) {
      throw invalid(
        `package expands to more than ${this.lim.packageExtractedBytes} bytes (${show(rel)} alone declares ${declared})`,
      );
    }
  }
}

/** Relative `/`-separated path of an entry, `''` for the root itself; throws if unsafe. */
function normaliseEntryPath(raw: string): string {
  const name = show(raw);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw invalid(`package entry ${name} has control characters in its name`);
  if (raw.includes('\\')) throw invalid(`package entry ${name} has a backslash in its name`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) throw invalid(`package entry ${name} is an absolute path`);
  const segments = raw.split('/');
  if (segments.includes('..')) throw invalid(`package entry ${name} has a ".." segment`);
  const kept = segments.filter((s) => s !== '' && s !== '.');
  if (kept.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    throw invalid(`package entry ${name} has a name longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  const rel = kept.join('/');
  if (Buffer.byteLength(rel) > MAX_PATH_BYTES)
    throw invalid(`package entry ${name} has a path longer than ${MAX_PATH_BYTES} bytes`);
  return rel;
}

/** Quotes a name for a message; JSON escaping keeps odd characters visible and harmless. */
function show(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

// ---------------------------------------------------------------------------------------
// .tar.gz

async function extractTarGz(data: Buffer, sink: ExtractionSink, lim: PackageLimits): Promise<void> {
  // We gunzip ourselves (with backpressure and a byte cap on the tar stream) and hand the
  // parser plain tar; it must not sniff for further compression.
  const parser = new Parser({ strict: true, brotli: false, zstd: false });
  let failure: unknown;
  let signalFailed!: () => void;
  const failed = new Promise<void>((resolve) => (signalFailed = resolve));
  const fail = (error: unknown): void => {
    if (failure !== undefined) return;
    failure =
      error instanceof DomainError || isFsError(error)
        ? error
        : invalid(`package is not a valid tar archive: ${messageOf(error)}`);
    signalFailed();
    // A fresh error: the parser decorates the one it is given.
    parser.abort(new Error('extraction stopped'));
  };
  parser.on('error', fail);
  const ended = new Promise<void>((resolve) => parser.once('end', resolve));
  // Past the end-of-archive marker nothing is read, so trailing junk is not even inflated.
  let sawEof = false;
  parser.once('eof', () => (sawEof = true));

  // The parser emits the next entry only once this one has ended, so handlers run one at a time.
  let work: Promise<void> = Promise.resolve();
  parser.on('entry', (entry: ReadEntry) => {
    work = work.then(async () => {
      if (failure !== undefined) return void entry.resume();
      try {
        await handleTarEntry(entry, untilFailed(entry, failed), sink);
      } catch (error) {
        fail(error);
        entry.resume();
      }
    });
  });

  const rawCap = lim.packageExtractedBytes + lim.packageEntries * TAR_OVERHEAD_PER_ENTRY + 1024 * 1024;
  let rawBytes = 0;
  let head: Buffer | undefined = Buffer.alloc(0);
  const gunzip = createGunzip();
  gunzip.end(data);
  try {
    for await (const piece of gunzip as AsyncIterable<Buffer>) {
      if (failure !== undefined || sawEof) break;
      rawBytes += piece.length;
      if (rawBytes > rawCap) {
        fail(invalid(`package expands to more than ${rawCap} bytes of tar data`));
        break;
      }
      let chunk = piece;
      if (head !== undefined) {
        // Accept only ustar/GNU/pax tars: rules out a gzip holding anything else (or gzip again).
        head = Buffer.concat([head, piece]);
        if (head.length < 512) continue;
        if (head.toString('latin1', 257, 262) !== 'ustar') {
          fail(invalid('package is gzip-compressed but does not hold a tar archive'));
          break;
        }
        chunk = head;
        head = undefined;
      }
      if (!parser.write(chunk)) {
        await Promise.race([new Promise((resolve) => parser.once('drain', resolve)), failed]);
      }
    }
  } catch (error) {
    fail(invalid(`package is not a valid gzip stream: ${messageOf(error)}`));
  }
  if (failure === undefined && head !== undefined)
    fail(invalid('package is gzip-compressed but does not hold a tar archive'));
  if (failure === undefined) {
    parser.end();
    await Promise.race([ended, failed]);
  }
  await work;
  if (failure !== undefined) throw failure;
}

const STOPPED: unique symbol = Symbol('stopped');

/**
 * The entry's data, ending early once extraction has failed: an aborted parser never ends
 * the entry it was feeding, and a handler waiting on it would wait forever.
 */
async function* untilFailed(entry: ReadEntry, failed: Promise<void>): AsyncGenerator<Buffer> {
  const chunks = entry[Symbol.asyncIterator]();
  const stop = failed.then((): typeof STOPPED => STOPPED);
  for (;;) {
    const next = await Promise.race([chunks.next(), stop]);
    if (next === STOPPED) throw new Error('extraction stopped');
    if (next.done) return;
    yield next.value;
  }
}

async function handleTarEntry(entry: ReadEntry, data: AsyncIterable<Buffer>, sink: ExtractionSink): Promise<void> {
  const name = entry.path;
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile': {
      // Pre-POSIX tars mark folders only by a trailing slash.
      if (name.endsWith('/') && entry.size === 0) {
        const dir = sink.admit(name, 'dir');
        if (dir !== null) await sink.mkdir(dir);
        return void entry.resume();
      }
      const rel = sink.admit(name, 'file');
      if (rel === null) return void entry.resume();
      await sink.writeFile(rel, data, ((entry.mode ?? 0) & 0o111) !== 0);
      return;
    }
    case 'Directory': {
      const rel = sink.admit(name, 'dir');
      if (rel !== null) await sink.mkdir(rel);
      return void entry.resume();
    }
    case 'SymbolicLink':
      throw invalid(`package entry ${show(name)} is a symbolic link; packages may hold only files and folders`);
    case 'Link':
      throw invalid(`package entry ${show(name)} is a hard link; packages may hold only files and folders`);
    case 'CharacterDevice':
    case 'BlockDevice':
      throw invalid(`package entry ${show(name)} is a device; packages may hold only files and folders`);
    case 'FIFO':
      throw invalid(`package entry ${show(name)} is a FIFO; packages may hold only files and folders`);
    default:
      throw invalid(`package entry ${show(name)} has unsupported tar type ${entry.type}`);
  }
}

// ---------------------------------------------------------------------------------------
// .zip

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const ZIP_MADE_BY_UNIX = 3;

async function extractZip(data: Buffer, sink: ExtractionSink, lim: PackageLimits): Promise<void> {
  // decodeStrings: false so that unsafe names reach our checks (and messages) instead of
  // yauzl's; we decode them below the same way yauzl would.
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(data, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true }, (error, zipfile) =>
      error ? reject(invalid(`package is not a valid zip archive: ${error.message}`)) : resolve(zipfile),
    ),
  );
  try {
    if (zip.entryCount > lim.packageEntries) {
      throw invalid(`package holds ${zip.entryCount} entries, more than the ${lim.packageEntries} allowed`);
    }
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (error: Error) => reject(invalid(`package is not a valid zip archive: ${error.message}`)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        handleZipEntry(zip, entry, sink).then(() => zip.readEntry(), reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

async function handleZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, sink: ExtractionSink): Promise<void> {
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
  const unixMode = entry.versionMadeBy >> 8 === ZIP_MADE_BY_UNIX ? entry.externalFileAttributes >>> 16 : 0;
  const type = unixMode & S_IFMT;
  if (type === S_IFLNK)
    throw invalid(`package entry ${show(name)} is a symbolic link; packages may hold only files and folders`);
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
    throw invalid(`package entry ${show(name)} is a special file; packages may hold only files and folders`);
  }
  if (name.endsWith('/') || type === S_IFDIR) {
    const rel = sink.admit(name, 'dir');
    if (rel !== null) await sink.mkdir(rel);
    return;
  }
  const rel = sink.admit(name, 'file');
  if (rel === null) return;
  if (entry.isEncrypted()) throw invalid(`package entry ${show(name)} is encrypted`);
  sink.checkDeclared(rel, entry.uncompressedSize);

  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
    zip.openReadStream(entry, (error, readStream) =>
      error ? reject(invalid(`package entry ${show(name)} cannot be read: ${error.message}`)) : resolve(readStream),
    ),
  );
  // yauzl's inner streams start working before we read: catch what they emit meanwhile.
  let streamError: unknown;
  stream.on('error', (error: unknown) => (streamError ??= error));
  try {
    await sink.writeFile(rel, stream as AsyncIterable<Buffer>, (unixMode & 0o111) !== 0);
  } catch (error) {
    if (error instanceof DomainError || isFsError(error)) throw error;
    throw corrupt(name, streamError ?? error);
  }
  if (streamError !== undefined) throw corrupt(name, streamError);
}

/** Inflate errors, and yauzl's check that the data matches the declared size. */
function corrupt(name: string, error: unknown): DomainError {
  return invalid(`package entry ${show(name)} is corrupt: ${messageOf(error)}`);
}

// ---------------------------------------------------------------------------------------
// Manifest

function findPackageRoot(sink: ExtractionSink): { prefix: string; manifestName: string } {
  const atRoot = manifestIn(sink, '');
  if (atRoot) return { prefix: '', manifestName: atRoot };
  const tops = new Set([...sink.kinds.keys()].map((p) => p.split('/')[0]));
  if (tops.size === 1) {
    const [top] = tops;
    const inside = sink.kinds.get(top) !== 'file' ? manifestIn(sink, top) : undefined;
    if (inside) return { prefix: top, manifestName: inside };
  }
  throw invalid(`package has no ${MANIFEST_FILE_NAMES.join(' or ')} at its root`);
}

function manifestIn(sink: ExtractionSink, prefix: string): string | undefined {
  const found = MANIFEST_FILE_NAMES.filter((name) => sink.kinds.has(prefix ? `${prefix}/${name}` : name));
  if (found.length > 1) throw invalid(`package holds both ${found.join(' and ')}; keep one`);
  if (found.length === 0) return undefined;
  if (sink.kinds.get(prefix ? `${prefix}/${found[0]}` : found[0]) !== 'file')
    throw invalid(`${found[0]} must be a file`);
  return found[0];
}

async function readManifest(file: string, name: string, lim: PackageLimits): Promise<Manifest> {
  const { size } = await fs.stat(file);
  if (size > lim.manifestBytes)
    throw invalid(`${name} is ${size} bytes, more than the ${lim.manifestBytes} bytes allowed`);
  const text = await fs.readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (error) {
    // yaml's messages read "<what> at line L, column C:" followed by a code excerpt.
    throw invalid(`${name} is not valid YAML: ${messageOf(error).split('\n')[0].replace(/:$/, '')}`);
  }
  try {
    return await validateManifest(raw);
  } catch (error) {
    if (error instanceof DomainError) throw invalid(error.message.replace(/^invalid manifest:/, `invalid ${name}:`));
    throw error;
  }
}

// ---------------------------------------------------------------------------------------

/** Duck-typed: errors from Node internals may come from another realm (e.g. under Jest). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

function isFsError(error: unknown, code?: string): boolean {
  const e = error as NodeJS.ErrnoException | null;
  return !!e && typeof e === 'object' && typeof e.syscall === 'string' && (code === undefined || e.code === code);
}
