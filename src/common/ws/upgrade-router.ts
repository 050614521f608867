import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DomainError } from '@streamstack/contracts';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { StreamstackConfig } from '../../config/config.schema';
import { SUBPROTOCOL_TOKEN_PREFIX } from '../auth/credentials';
import { originAllowed } from '../http/origins';

/**
 * Decides on an HTTP upgrade before any socket exists: resolves with what the socket's
 * handler needs (e.g. the authenticated caller), or throws a DomainError that is answered as
 * a plain HTTP error.
 */
export interface UpgradeRoute<T> {
  path: string;
  authorise(req: IncomingMessage, url: URL): Promise<T>;
  connected(socket: WebSocket, context: T, req: IncomingMessage): void;
  /** Largest message accepted; bigger ones close the socket with 1009. */
  maxPayload: number;
}

/**
 * The one `upgrade` listener of the HTTP server. Routes by exact path, checks the Origin
 * allow-list, authorises on the upgrade request itself, then hands the socket to its route.
 */
@Injectable()
export class UpgradeRouter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ws');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly routes = new Map<string, { route: UpgradeRoute<any>; wss: WebSocketServer }>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: StreamstackConfig,
  ) {}

  add<T>(route: UpgradeRoute<T>): void {
    // The protocol agreed is the first one offered that is not a credential, never the token.
    const handleProtocols = (offered: Set<string>) => [...offered].find((p) => !p.startsWith(SUBPROTOCOL_TOKEN_PREFIX)) ?? false;
    this.routes.set(route.path, { route, wss: new WebSocketServer({ noServer: true, maxPayload: route.maxPayload, handleProtocols }) });
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    server?.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
  }

  onApplicationShutdown(): void {
    for (const { wss } of this.routes.values()) {
      for (const client of wss.clients) client.terminate();
      wss.close();
    }
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry = this.routes.get(url.pathname.replace(/\/+$/, '') || '/');
    if (!entry) return reject(socket, 404, `no WebSocket endpoint at ${url.pathname}`);
    const origin = req.headers.origin;
    if (!originAllowed(this.config, origin)) return reject(socket, 403, `origin ${origin} is not allowed (STREAMSTACK_ALLOWED_ORIGINS)`);
    let context: unknown;
    try {
      context = await entry.route.authorise(req, url);
    } catch (e) {
      const err = DomainError.from(e);
      return reject(socket, err.status, err.message);
    }
    entry.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (e) => this.logger.debug(`socket on ${url.pathname}: ${e.message}`));
      entry.route.connected(ws, context, req);
    });
  }
}

function reject(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ type: 'error', status: 'failed', status_code: status, error: message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
