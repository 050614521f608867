import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { conflict, invalid, notFound } from '@streamstack/contracts';
import { newId, nowIso, TransactionRunner } from '@streamstack/persistence';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { In, Not, Repository } from 'typeorm';
import { StreamstackConfig } from '../../config/config.schema';
import { Instance } from '../instances/instance.entity';
import { readApplicationPackage } from './application-package';
import { ApplicationVersion } from './application-version.entity';
import { Application } from './application.entity';
import { Manifest, validateManifest } from './manifest.dto';

export interface ApplicationVersionView {
  version: number;
  published: boolean;
  manifest: Manifest;
  packaged: boolean;
  created_at: string;
}

export interface ApplicationView {
  name: string;
  kind: Manifest['kind'];
  latest_version: number;
  published_version: number | null;
  versions: number;
  instances: number;
  created_at: string;
  updated_at: string;
}

/** A version AMS may launch, with what the node needs to run it. */
export interface LaunchableVersion {
  app: string;
  version: number;
  manifest: Manifest;
  packageDir: string | null;
}

const versionView = (v: ApplicationVersion): ApplicationVersionView => ({
  version: v.version,
  published: v.published,
  manifest: v.manifest,
  packaged: v.packageDir !== null,
  created_at: v.createdAt,
});

/** What a new version is made from: a JSON manifest or an uploaded package. */
export type ApplicationSource = { manifest: unknown } | { package: Buffer };

@Injectable()
export class ApplicationsService {
  private readonly logger = new Logger('applications');

  constructor(
    @InjectRepository(Application) private readonly apps: Repository<Application>,
    @InjectRepository(ApplicationVersion) private readonly versions: Repository<ApplicationVersion>,
    @InjectRepository(Instance) private readonly instances: Repository<Instance>,
    private readonly tx: TransactionRunner,
    private readonly config: StreamstackConfig,
  ) {}

  /** Creates an application with its first version. */
  async create(source: ApplicationSource): Promise<ApplicationView> {
    return this.addVersion(source, undefined);
  }

  /** Adds a version to an existing application (PATCH /applications/{name}). */
  async update(name: string, source: ApplicationSource): Promise<ApplicationView> {
    await this.requireApp(name);
    return this.addVersion(source, name);
  }

  async list(): Promise<ApplicationView[]> {
    const apps = await this.apps.find({ order: { name: 'ASC' } });
    return Promise.all(apps.map((a) => this.view(a)));
  }

  async get(name: string): Promise<ApplicationView> {
    return this.view(await this.requireApp(name));
  }

  async listVersions(name: string): Promise<ApplicationVersionView[]> {
    await this.requireApp(name);
    return (await this.versions.find({ where: { app: name }, order: { version: 'ASC' } })).map(versionView);
  }

  async setPublished(name: string, version: number, published: boolean): Promise<ApplicationVersionView> {
    const v = await this.versions.findOneBy({ app: name, version });
    if (!v) throw notFound('application version', `${name}/${version}`);
    v.published = published;
    await this.versions.save(v);
    await this.apps.update({ name }, { updatedAt: nowIso() });
    this.logger.log(`${name} version ${version} ${published ? 'published' : 'unpublished'}`);
    return versionView(v);
  }

  /** Deletes an application and all its versions; refused while any instance uses it. */
  async delete(name: string): Promise<void> {
    await this.requireApp(name);
    const dirs = await this.tx.run(async (m) => {
      const using = await m.getRepository(Instance).countBy({ app: name, status: Not(In(['deleted'])) });
      if (using > 0) {
        throw conflict(`application "${name}" is used by ${using} instance(s); delete them first`);
      }
      const versions = await m.getRepository(ApplicationVersion).findBy({ app: name });
      await m.getRepository(ApplicationVersion).delete({ app: name });
      await m.getRepository(Application).delete({ name });
      return versions.map((v) => v.packageDir).filter((d): d is string => d !== null);
    });
    await rm(this.appDir(name), { recursive: true, force: true });
    this.logger.log(`application ${name} deleted (${dirs.length} package(s) removed)`);
  }

  /** The version to launch: the one asked for if it is published, else the latest published. */
  async resolveLaunchable(name: string, version?: number): Promise<LaunchableVersion> {
    await this.requireApp(name);
    const v =
      version !== undefined
        ? await this.versions.findOneBy({ app: name, version })
        : await this.versions.findOne({ where: { app: name, published: true }, order: { version: 'DESC' } });
    if (!v) {
      throw version !== undefined
        ? notFound('application version', `${name}/${version}`)
        : invalid(
            `application "${name}" has no published version; publish one with PATCH /ams/1.0/applications/${name}/<version>`,
          );
    }
    if (!v.published) {
      throw invalid(
        `application "${name}" version ${v.version} is not published; publish it with PATCH /ams/1.0/applications/${name}/${v.version}`,
      );
    }
    return { app: name, version: v.version, manifest: v.manifest, packageDir: v.packageDir };
  }

  private async addVersion(source: ApplicationSource, expectedName: string | undefined): Promise<ApplicationView> {
    const staging = join(this.config.dataDir, 'applications', `.staging-${newId()}`);
    let manifest: Manifest;
    let packaged = false;
    if ('package' in source) {
      manifest = (await readApplicationPackage(source.package, staging)).manifest;
      packaged = true;
    } else {
      manifest = await validateManifest(source.manifest);
    }
    try {
      if (expectedName !== undefined && manifest.name !== expectedName) {
        throw invalid(`manifest name "${manifest.name}" does not match the application "${expectedName}"`);
      }
      const saved = await this.tx.run(async (m) => {
        const appRepo = m.getRepository(Application);
        const versionRepo = m.getRepository(ApplicationVersion);
        const existing = await appRepo.findOneBy({ name: manifest.name });
        if (existing && expectedName === undefined) {
          throw conflict(
            `application "${manifest.name}" exists already; add a version with PATCH /ams/1.0/applications/${manifest.name}`,
          );
        }
        const latest = existing
          ? await versionRepo.findOne({ where: { app: manifest.name }, order: { version: 'DESC' } })
          : null;
        const version = manifest.version ?? (latest ? latest.version + 1 : 1);
        if (latest && version <= latest.version) {
          throw conflict(`version ${version} of "${manifest.name}" is not newer than the latest, ${latest.version}`);
        }
        const packageDir = packaged ? this.versionDir(manifest.name, version) : null;
        const now = nowIso();
        if (existing) await appRepo.update({ name: manifest.name }, { updatedAt: now });
        else await appRepo.insert({ name: manifest.name, createdAt: now, updatedAt: now });
        await versionRepo.insert({
          app: manifest.name,
          version,
          manifest: { ...manifest, version },
          published: true,
          packageDir,
          createdAt: now,
        });
        if (packageDir) {
          await mkdir(this.appDir(manifest.name), { recursive: true });
          await rename(staging, packageDir);
        }
        return { name: manifest.name, version };
      });
      this.logger.log(`application ${saved.name} version ${saved.version} created`);
      return this.get(saved.name);
    } finally {
      if (packaged) await rm(staging, { recursive: true, force: true });
    }
  }

  private async view(a: Application): Promise<ApplicationView> {
    const versions = await this.versions.find({ where: { app: a.name }, order: { version: 'DESC' } });
    const published = versions.find((v) => v.published);
    const instances = await this.instances.countBy({ app: a.name, status: Not(In(['deleted'])) });
    return {
      name: a.name,
      kind: versions[0]?.manifest.kind ?? 'test-pattern',
      latest_version: versions[0]?.version ?? 0,
      published_version: published?.version ?? null,
      versions: versions.length,
      instances,
      created_at: a.createdAt,
      updated_at: a.updatedAt,
    };
  }

  private async requireApp(name: string): Promise<Application> {
    const app = await this.apps.findOneBy({ name });
    if (!app) throw notFound('application', name);
    return app;
  }

  private appDir(name: string): string {
    return join(this.config.dataDir, 'applications', name);
  }

  private versionDir(name: string, version: number): string {
    return join(this.appDir(name), String(version));
  }
}
