import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type AccountRole, type AccountView, conflict, notFound, Patterns } from '@streamstack/contracts';
import { newId, nowIso } from '@streamstack/persistence';
import { randomBytes } from 'node:crypto';
import { RpcClient } from '@streamstack/transport';
import { Repository } from 'typeorm';
import { hashToken } from '../../common/auth/credentials';
import { TokenVerifier } from '../../common/auth/token-verifier';
import { Account } from './account.entity';

export const BOOTSTRAP_ADMIN = 'admin';

export const toView = (a: Account): AccountView => ({ id: a.id, name: a.name, role: a.role, created_at: a.createdAt });

/** 256 random bits from the CSPRNG, URL-safe. */
const newToken = () => randomBytes(32).toString('base64url');

@Injectable()
export class AccountsService implements OnModuleInit {
  private readonly logger = new Logger('accounts');

  constructor(
    @InjectRepository(Account) private readonly accounts: Repository<Account>,
    private readonly tokens: TokenVerifier,
    private readonly rpc: RpcClient,
  ) {}

  /** This process's HTTP routes verify tokens here, with no bus in between. */
  onModuleInit(): void {
    this.tokens.useLocal(this);
  }

  /** Creates an account; the token is returned once and never stored. */
  async create(name: string, role: AccountRole): Promise<AccountView & { token: string }> {
    if (await this.accounts.existsBy({ name })) throw conflict(`an account named "${name}" exists already`);
    const token = newToken();
    const account = await this.accounts.save(
      this.accounts.create({ id: newId(), name, role, tokenHash: hashToken(token), createdAt: nowIso() }),
    );
    this.logger.log(`account ${name} (${role}) created`);
    return { ...toView(account), token };
  }

  async list(): Promise<AccountView[]> {
    return (await this.accounts.find({ order: { createdAt: 'ASC', name: 'ASC' } })).map(toView);
  }

  /** Revokes by id or name: the account and its token stop working at once. */
  async revoke(idOrName: string): Promise<void> {
    const account = await this.accounts.findOne({ where: [{ id: idOrName }, { name: idOrName }] });
    if (!account) throw notFound('account', idOrName);
    await this.accounts.delete({ id: account.id });
    this.rpc.emit(Patterns.accountRevoked, { id: account.id });
    this.logger.log(`account ${account.name} revoked`);
  }

  /** The id of the account named `name`; not_found names it. */
  async idOf(name: string): Promise<string> {
    const account = await this.accounts.findOneBy({ name });
    if (!account) throw notFound('account', name);
    return account.id;
  }

  async verify(tokenHash: string): Promise<AccountView | null> {
    const account = await this.accounts.findOneBy({ tokenHash });
    return account ? toView(account) : null;
  }

  /**
   * Makes sure an admin can log in. A configured token becomes the bootstrap admin's token;
   * without one, the first start makes a token and returns it so that it is printed once.
   */
  async ensureBootstrapAdmin(configuredToken: string): Promise<string | null> {
    try {
      return await this.ensureBootstrapAdminOnce(configuredToken);
    } catch (e) {
      // Another process starting on the same database (two gateways) made it at the same moment,
      // and the unique name refused ours: converge on the one that is there now.
      if (!(await this.accounts.existsBy({ name: BOOTSTRAP_ADMIN }))) throw e;
      return this.ensureBootstrapAdminOnce(configuredToken);
    }
  }

  private async ensureBootstrapAdminOnce(configuredToken: string): Promise<string | null> {
    const existing = await this.accounts.findOneBy({ name: BOOTSTRAP_ADMIN });
    if (configuredToken) {
      const tokenHash = hashToken(configuredToken);
      if (!existing) {
        await this.accounts.save(
          this.accounts.create({ id: newId(), name: BOOTSTRAP_ADMIN, role: 'admin', tokenHash, createdAt: nowIso() }),
        );
      } else if (existing.tokenHash !== tokenHash || existing.role !== 'admin') {
        await this.accounts.update({ id: existing.id }, { tokenHash, role: 'admin' });
      }
      return null;
    }
    if (existing || (await this.accounts.existsBy({ role: 'admin' }))) return null;
    const { token } = await this.create(BOOTSTRAP_ADMIN, 'admin');
    return token;
  }
}
