import { bigintAsNumber } from '@streamstack/persistence';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export const NODE_STATUSES = ['online', 'offline'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

@Entity('nodes')
export class NodeRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 255 })
  address: string;

  @Column({ type: 'integer' })
  cpus: number;

  /** bytes */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  memory: number;

  @Column({ type: 'varchar', length: 16 })
  status: NodeStatus;

  @Column({ type: 'boolean', default: false })
  unschedulable: boolean;

  @Column({ name: 'last_seen', type: 'varchar', length: 32 })
  lastSeen: string;
}
