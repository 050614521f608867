import { Injectable, OnModuleInit } from '@nestjs/common';
import { DomainError } from '@streamstack/contracts';
import { AuthGuard } from '../../common/auth/auth.guard';
import { tokenFromSubprotocols } from '../../common/auth/credentials';
import { UpgradeRouter } from '../../common/ws/upgrade-router';
import { AmsEventsService } from './ams-events.service';

/** `GET /ams/1.0/events`: every AMS event as one JSON text frame, admins only. */
@Injectable()
export class AmsEventsSocket implements OnModuleInit {
  constructor(
    private readonly router: UpgradeRouter,
    private readonly auth: AuthGuard,
    private readonly events: AmsEventsService,
  ) {}

  onModuleInit(): void {
    this.router.add({
      path: '/ams/1.0/events',
      maxPayload: 4096,
      authorise: async (req, url) => {
        // A browser's token comes as a subprotocol (it cannot set Authorization on a WebSocket).
        const fromProtocol = tokenFromSubprotocols(req.headers['sec-websocket-protocol']);
        const headers = !req.headers.authorization && fromProtocol ? { ...req.headers, authorization: `Bearer ${fromProtocol}` } : req.headers;
        const caller = await this.auth.authenticate({ headers, query: Object.fromEntries(url.searchParams) } as never);
        if (caller.role !== 'admin') throw new DomainError('forbidden', 'the events socket needs an admin account');
        return caller;
      },
      connected: (socket) => {
        const subscription = this.events.stream.subscribe((event) => socket.send(JSON.stringify(event)));
        socket.on('close', () => subscription.unsubscribe());
        // Clients only listen: anything they send is ignored.
      },
    });
  }
}
