import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Manifest } from './manifest.dto';

/** One immutable version of an application: its manifest and, for packages, its files. */
@Entity('application_versions')
export class ApplicationVersion {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  app: string;

  @PrimaryColumn({ type: 'integer' })
  version: number;

  @Column({ type: 'simple-json' })
  manifest: Manifest;

  @Column({ type: 'boolean', default: true })
  published: boolean;

  /** Where the package's files were extracted; null for JSON manifests. */
  @Column({ name: 'package_dir', type: 'varchar', length: 1024, nullable: true })
  packageDir: string | null;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;
}
