import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { AccountRole } from '@streamstack/contracts';

/** A service account. Only the SHA-256 of its token is kept (PROTOCOL.md §2). */
@Entity('accounts')
export class Account {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id: string;

  @Column({ type: 'varchar', length: 64, unique: true })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: AccountRole;

  @Column({ name: 'token_hash', type: 'varchar', length: 64, unique: true })
  tokenHash: string;

  @Column({ name: 'created_at', type: 'varchar', length: 32 })
  createdAt: string;
}
