import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { StreamstackConfig } from '../../config/config.schema';
import { AccountsService } from './accounts.service';

/** Makes sure an admin exists at start; a token made here is kept for the start banner. */
@Injectable()
export class BootstrapAdmin implements OnApplicationBootstrap {
  /** Set on the first start only, when no admin token was configured. */
  createdToken: string | null = null;

  constructor(
    private readonly accounts: AccountsService,
    private readonly config: StreamstackConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.createdToken = await this.accounts.ensureBootstrapAdmin(this.config.adminToken);
  }
}
