import { Module } from '@nestjs/common';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsHandler } from './accounts/accounts.handler';
import { AccountsService } from './accounts/accounts.service';
import { AgentsHandler } from './regions/agents.handler';
import { AgentsService } from './regions/agents.service';
import { RegionsController } from './regions/regions.controller';
import { BootstrapAdmin } from './accounts/bootstrap-admin';

/** The stream gateway: accounts, agents and regions (sessions and signalling build on it). */
@Module({
  controllers: [AccountsController, AccountsHandler, AgentsHandler, RegionsController],
  providers: [AccountsService, AgentsService, BootstrapAdmin],
  exports: [AgentsService],
})
export class GatewayModule {}
