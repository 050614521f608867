import { Column, Entity, PrimaryColumn } from 'typeorm';

export const OPERATION_STATUSES = ['pending', 'running', 'success', 'failure'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

/** Long-running work behind a 202 answer (PROTOCOL.md §6). */
@Entity('operations')
export class Operation {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  description: string;

  @Column({ type: 'varchar', length: 16 })
  status: OperationStatus;

  /** e.g. {instances: ['/ams/1.0/instances/ID']} */
  @Column({ type: 'simple-json' })
  resources: Record<string, string[]>;

  @Column({ type: 'text', default: '' })
  err: string;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt: string;
}
