import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { StreamstackConfig } from '../config/config.schema';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsHandler } from './accounts/accounts.handler';
import { AccountsService } from './accounts/accounts.service';
import { BootstrapAdmin } from './accounts/bootstrap-admin';
import { GatewayApplicationsController } from './applications/gateway-applications.controller';
import { AgentsHandler } from './regions/agents.handler';
import { AgentsService } from './regions/agents.service';
import { RegionsController } from './regions/regions.controller';
import { SessionReaper } from './sessions/session-reaper';
import { sessionThrottlers } from './sessions/session-throttle';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsHandler } from './sessions/sessions.handler';
import { SessionsService } from './sessions/sessions.service';
import { SignallingRelay } from './signalling/signalling-relay.service';
import { SignallingHandler } from './signalling/signalling.handler';
import { TicketService } from './signalling/tickets';
import { Account } from './accounts/account.entity';
import { Session } from './sessions/session.entity';

/** The stream gateway: accounts, regions, sessions, signalling relay. */
@Module({
  imports: [TypeOrmModule.forFeature([Account, Session]), ThrottlerModule.forRootAsync({ inject: [StreamstackConfig], useFactory: sessionThrottlers })],
  controllers: [
    AccountsController,
    AccountsHandler,
    AgentsHandler,
    RegionsController,
    GatewayApplicationsController,
    SessionsController,
    SessionsHandler,
    SignallingHandler,
  ],
  providers: [AccountsService, AgentsService, BootstrapAdmin, SessionsService, SessionReaper, TicketService, SignallingRelay],
  exports: [AgentsService],
})
export class GatewayModule {}
