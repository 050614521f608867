import { Command, Option, SubCommand } from 'nest-commander';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';
import { parse as parseYaml } from 'yaml';
import { formatBytes, formatScreen, formatTime, printFields, printJson, printTable, terminal } from './output';
import { enc, Flags, printResult, RemoteCommand, RemoteContext, UsageError, VerbCommand } from './remote-command';

interface ApplicationView {
  name: string;
  kind: string;
  latest_version: number;
  published_version: number | null;
  versions: number;
  instances: number;
  created_at: string;
  updated_at: string;
}

interface VersionView {
  version: number;
  published: boolean;
  manifest: {
    kind?: string;
    display?: { width: number; height: number; fps: number };
    resources?: { cpus: number; memory: number };
  };
  packaged: boolean;
  created_at: string;
}

/** A request body for POST/PATCH /applications: a parsed manifest, or package bytes. */
export interface ApplicationSource {
  body: unknown;
  contentType?: string;
}

/**
 * Manifests are sent as JSON (YAML is parsed here, so the server sees one format);
 * packages are sent as the raw body, typed by their extension.
 */
export async function readApplicationSource(file: string): Promise<ApplicationSource> {
  const lower = file.toLowerCase();
  const kind = lower.endsWith('.json')
    ? 'json'
    : lower.endsWith('.yaml') || lower.endsWith('.yml')
      ? 'yaml'
      : lower.endsWith('.tar.gz') || lower.endsWith('.tgz')
        ? 'gzip'
        : lower.endsWith('.zip')
          ? 'zip'
          : null;
  if (!kind) throw new UsageError(`${file}: expected a manifest (.json, .yaml) or a package (.tar.gz, .tgz, .zip)`);

  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`);
  }
  if (kind === 'gzip') return { body: bytes, contentType: 'application/gzip' };
  if (kind === 'zip') return { body: bytes, contentType: 'application/zip' };

  let manifest: unknown;
  try {
    manifest = kind === 'json' ? JSON.parse(bytes.toString('utf8')) : parseYaml(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid ${kind.toUpperCase()}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new Error(`${file}: the manifest must be an object (name, kind, display, resources, …)`);
  }
  return { body: manifest };
}

/** examples/samples of this checkout: found upwards from here (src/cli/remote, or dist/src/cli/remote). */
export function samplesDir(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'examples', 'samples');
    if (existsSync(candidate)) return candidate;
  }
  throw new UsageError('the samples (examples/samples) are not installed next to this streamstack');
}

/** The sample applications (examples/samples/<name>/manifest.yaml and their files). */
export const sampleNames = (): string[] => readdirSync(samplesDir()).filter((name) => existsSync(join(samplesDir(), name, 'manifest.yaml'))).sort();

/** A sample as the package the server takes: its folder, as a .tar.gz. */
export async function readSample(name: string): Promise<ApplicationSource> {
  const names = sampleNames();
  if (!names.includes(name)) throw new UsageError(`no sample named ${JSON.stringify(name)}: the samples are ${names.join(', ')}`);
  const dir = join(samplesDir(), name);
  const chunks: Buffer[] = [];
  for await (const chunk of createTar({ gzip: true, cwd: dir, portable: true }, readdirSync(dir))) chunks.push(chunk as Buffer);
  return { body: Buffer.concat(chunks), contentType: 'application/gzip' };
}

function printApplicationSummary(app: ApplicationView, verb: string): void {
  terminal.out(`Application ${app.name} ${verb}: version ${app.latest_version} (${app.kind}).`);
  if (app.published_version === app.latest_version) return;
  terminal.out(
    app.published_version === null
      ? `No version is published yet: streamstack app publish ${app.name} ${app.latest_version}`
      : `Version ${app.published_version} stays published; publish this one with: streamstack app publish ${app.name} ${app.latest_version}`,
  );
}

@SubCommand({
  name: 'create',
  arguments: '[file]',
  argsDescription: { file: 'manifest.json, manifest.yaml, or a package (.tar.gz, .tgz, .zip) holding manifest.yaml' },
  description: 'Create an application from a manifest, a package, or one of the samples (--sample terminal|draw|echo)',
})
export class AppCreateCommand extends RemoteCommand {
  @Option({ flags: '--sample <name>', description: 'a sample application from examples/samples: terminal, draw or echo' })
  parseSample(value: string): string {
    return value;
  }

  protected async execute([file]: string[], flags: Flags, ctx: RemoteContext): Promise<void> {
    const sample = typeof flags.sample === 'string' ? flags.sample : undefined;
    if ((file === undefined) === (sample === undefined)) throw new UsageError('give a manifest or package file, or --sample <name> (not both)');
    const source = sample ? await readSample(sample) : await readApplicationSource(file);
    const app = await ctx.client.request<ApplicationView>('POST', '/ams/1.0/applications', source.body, source.contentType);
    printResult(ctx, app, () => printApplicationSummary(app, 'created'));
  }
}

@SubCommand({
  name: 'update',
  arguments: '<name> <file>',
  argsDescription: { file: 'manifest.json, manifest.yaml, or a package (.tar.gz, .tgz, .zip)' },
  description: 'Add a new version to an application',
})
export class AppUpdateCommand extends RemoteCommand {
  protected async execute([name, file]: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const source = await readApplicationSource(file);
    const app = await ctx.client.request<ApplicationView>('PATCH', `/ams/1.0/applications/${enc(name)}`, source.body, source.contentType);
    printResult(ctx, app, () => printApplicationSummary(app, 'updated'));
  }
}

@SubCommand({ name: 'list', aliases: ['ls'], description: 'List applications' })
export class AppListCommand extends RemoteCommand {
  protected async execute(_params: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const apps = await ctx.client.request<ApplicationView[]>('GET', '/ams/1.0/applications');
    printResult(ctx, apps, () => {
      if (apps.length === 0) return terminal.out('No applications.');
      printTable(apps, [
        { header: 'NAME', value: (a) => a.name },
        { header: 'KIND', value: (a) => a.kind },
        { header: 'LATEST', value: (a) => a.latest_version, align: 'right' },
        { header: 'PUBLISHED', value: (a) => a.published_version, align: 'right' },
        { header: 'VERSIONS', value: (a) => a.versions, align: 'right' },
        { header: 'INSTANCES', value: (a) => a.instances, align: 'right' },
        { header: 'UPDATED', value: (a) => formatTime(a.updated_at) },
      ]);
    });
  }
}

@SubCommand({ name: 'show', arguments: '<name>', description: 'Show an application and its versions' })
export class AppShowCommand extends RemoteCommand {
  protected async execute([name]: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const path = `/ams/1.0/applications/${enc(name)}`;
    const [app, versions] = await Promise.all([
      ctx.client.request<ApplicationView>('GET', path),
      ctx.client.request<VersionView[]>('GET', `${path}/versions`),
    ]);
    // Two answers make up this view, so --json prints both, each as the server sent it.
    if (ctx.json) return printJson({ application: app, versions });
    printFields([
      ['name', app.name],
      ['kind', app.kind],
      ['latest version', app.latest_version],
      ['published version', app.published_version ?? 'none'],
      ['instances', app.instances],
      ['created', formatTime(app.created_at)],
      ['updated', formatTime(app.updated_at)],
    ]);
    terminal.out('');
    if (versions.length === 0) return terminal.out('No versions.');
    printTable(versions, [
      { header: 'VERSION', value: (v) => v.version, align: 'right' },
      { header: 'PUBLISHED', value: (v) => v.published },
      { header: 'KIND', value: (v) => v.manifest?.kind },
      { header: 'DISPLAY', value: (v) => formatScreen(v.manifest?.display) },
      { header: 'CPUS', value: (v) => v.manifest?.resources?.cpus, align: 'right' },
      { header: 'MEMORY', value: (v) => formatBytes(v.manifest?.resources?.memory), align: 'right' },
      { header: 'PACKAGED', value: (v) => v.packaged },
      { header: 'CREATED', value: (v) => formatTime(v.created_at) },
    ]);
  }
}

@SubCommand({ name: 'publish', arguments: '<name> <version>', description: 'Publish a version (or --unpublish it)' })
export class AppPublishCommand extends RemoteCommand {
  @Option({ flags: '--unpublish', description: 'withdraw the version instead' })
  parseUnpublish(): boolean {
    return true;
  }

  protected async execute([name, versionText]: string[], flags: Flags, ctx: RemoteContext): Promise<void> {
    const version = positiveInt(versionText, 'version');
    const published = flags.unpublish !== true;
    const result = await ctx.client.request('PATCH', `/ams/1.0/applications/${enc(name)}/${version}`, { published });
    printResult(ctx, result ?? null, () => terminal.out(`Application ${name} version ${version} ${published ? 'published' : 'unpublished'}.`));
  }
}

@SubCommand({ name: 'delete', arguments: '<name>', aliases: ['rm'], description: 'Delete an application and all its versions' })
export class AppDeleteCommand extends RemoteCommand {
  protected async execute([name]: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const result = await ctx.client.request('DELETE', `/ams/1.0/applications/${enc(name)}`);
    printResult(ctx, result ?? null, () => terminal.out(`Application ${name} deleted.`));
  }
}

@Command({
  name: 'app',
  description: 'Manage applications and their versions',
  subCommands: [AppCreateCommand, AppUpdateCommand, AppListCommand, AppShowCommand, AppPublishCommand, AppDeleteCommand],
})
export class AppCommand extends VerbCommand {}

export const APP_COMMANDS = [AppCommand, AppCreateCommand, AppUpdateCommand, AppListCommand, AppShowCommand, AppPublishCommand, AppDeleteCommand];

export function positiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${what} must be a positive integer, not ${JSON.stringify(text)}`);
  return Number(text);
}
