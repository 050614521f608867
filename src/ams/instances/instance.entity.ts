import type { DisplaySpec, InstanceStatus } from '@streamstack/contracts';
import { bigintAsNumber } from '@streamstack/persistence';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('instances')
export class Instance {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id: string;

  @Index()
  @Column({ type: 'varchar', length: 64 })
  app: string;

  @Column({ name: 'app_version', type: 'integer' })
  appVersion: number;

  @Index()
  @Column({ type: 'varchar', length: 64, nullable: true })
  node: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: InstanceStatus;

  @Column({ name: 'status_message', type: 'text', default: '' })
  statusMessage: string;

  @Column({ type: 'simple-json' })
  screen: DisplaySpec & { density: number };

  /** The resources reserved on its node while it is not stopped. */
  @Column({ type: 'integer' })
  cpus: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  memory: number;

  @Column({ name: 'enable_streaming', type: 'boolean', default: false })
  enableStreaming: boolean;

  @Column({ name: 'session_id', type: 'varchar', length: 32, nullable: true })
  sessionId: string | null;

  @Column({ name: 'user_data', type: 'simple-json', nullable: true })
  userData: unknown;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt: string;
}
