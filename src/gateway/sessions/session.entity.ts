import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import type { ScreenView, SessionStatus } from '@streamstack/contracts';

/** A gateway session (PROTOCOL.md §3): where a client and an instance meet. */
@Entity('sessions')
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id: string;

  /** The account that created it; only it (or an admin) sees it. Null: made by AMS for an instance. */
  @Index()
  @Column({ name: 'account_id', type: 'varchar', length: 32, nullable: true })
  accountId: string | null;

  @Column({ type: 'varchar', length: 64 })
  app: string;

  @Column({ name: 'app_version', type: 'integer', nullable: true })
  appVersion: number | null;

  @Column({ type: 'varchar', length: 64 })
  region: string;

  @Column({ name: 'instance_id', type: 'varchar', length: 32, nullable: true })
  instanceId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  node: string | null;

  @Column({ type: 'boolean', default: false })
  joinable: boolean;

  @Column({ type: 'boolean', default: true })
  ephemeral: boolean;

  @Column({ name: 'idle_time_min', type: 'integer', default: 0 })
  idleTimeMin: number;

  @Index()
  @Column({ type: 'varchar', length: 16 })
  status: SessionStatus;

  @Column({ name: 'status_message', type: 'text', default: '' })
  statusMessage: string;

  @Column({ type: 'simple-json' })
  screen: ScreenView;

  @Column({ name: 'extra_data', type: 'simple-json', nullable: true })
  extraData: unknown;

  /** Bumped by every create/join: tickets and relayed messages of older clients are stale. */
  @Column({ name: 'client_generation', type: 'integer', default: 0 })
  clientGeneration: number;

  /** True while a client's peer connection to the instance is up. */
  @Column({ name: 'client_connected', type: 'boolean', default: false })
  clientConnected: boolean;

  /** View-only peers connected beside the driver (PROTOCOL.md §3), as their instance reports them. */
  @Column({ type: 'integer', default: 0 })
  spectators: number;

  /** When a client last arrived or left: the clock of the idle and ephemeral rules. */
  @Column({ name: 'last_client_activity_at', type: 'varchar', length: 32 })
  lastClientActivityAt: string;

  /** Set once a client's peer connection has been up: an ephemeral session ends when it goes. */
  @Column({ name: 'client_left_at', type: 'varchar', length: 32, nullable: true })
  clientLeftAt: string | null;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 32 })
  updatedAt: string;
}
