import { Injectable, Logger } from '@nestjs/common';
import type { WritePacket } from '@nestjs/microservices';
import { isWildcard, subjectMatches } from '../subject';

/** One registered pattern of an endpoint (a LocalTransportServer). */
export interface LocalRoute {
  pattern: string;
  isEvent: boolean;
}

/** What the bus needs from a server: its routes and a way to hand it a message. */
export interface LocalEndpoint {
  routes(): LocalRoute[];
  deliverRequest(pattern: string, subject: string, data: unknown, respond: (packet: WritePacket) => void): void;
  deliverEvent(pattern: string, subject: string, data: unknown): Promise<void>;
}

/**
 * The in-process message bus shared by LocalTransportServer (handlers) and LocalClientProxy
 * (callers) of one application. It only routes; payloads are already JSON round-tripped by the
 * client, and delivery is always asynchronous, as over NATS.
 *
 * Delivery is a microtask: after the sender's code, but ahead of the I/O and immediates already
 * queued. A viewer's signalling crosses this bus twice per message, and as `setImmediate` hops
 * each waited behind whatever database work the stack had queued (an instance's transitions, the
 * session written active): 10-40 ms a hop on 2 busy cores.
 */
@Injectable()
export class LocalBus {
  private readonly logger = new Logger('LocalBus');
  private readonly endpoints: LocalEndpoint[] = [];

  attach(endpoint: LocalEndpoint): void {
    if (!this.endpoints.includes(endpoint)) this.endpoints.push(endpoint);
  }

  detach(endpoint: LocalEndpoint): void {
    const i = this.endpoints.indexOf(endpoint);
    if (i >= 0) this.endpoints.splice(i, 1);
  }

  /**
   * Routes a request to exactly one handler: an exact pattern wins over wildcards, otherwise the
   * first match in registration order. Returns false when nothing handles the subject.
   */
  request(subject: string, data: unknown, respond: (packet: WritePacket) => void): boolean {
    const target = this.findRequestHandler(subject);
    if (!target) return false;
    queueMicrotask(() => target.endpoint.deliverRequest(target.pattern, subject, data, respond));
    return true;
  }

  /** Delivers an event to every matching event handler; returns how many matched. */
  publish(subject: string, data: unknown): number {
    let delivered = 0;
    for (const endpoint of this.endpoints) {
      for (const route of endpoint.routes()) {
        if (!route.isEvent || !subjectMatches(route.pattern, subject)) continue;
        delivered++;
        queueMicrotask(() => {
          endpoint.deliverEvent(route.pattern, subject, data).catch((err: unknown) => {
            this.logger.error(`event handler for ${route.pattern} (${subject}) failed: ${String(err)}`);
          });
        });
      }
    }
    return delivered;
  }

  /** Whether a request on this subject would find a handler. */
  hasResponder(subject: string): boolean {
    return this.findRequestHandler(subject) !== undefined;
  }

  private findRequestHandler(subject: string): { endpoint: LocalEndpoint; pattern: string } | undefined {
    let wildcard: { endpoint: LocalEndpoint; pattern: string } | undefined;
    for (const endpoint of this.endpoints) {
      for (const route of endpoint.routes()) {
        if (route.isEvent) continue;
        if (route.pattern === subject) return { endpoint, pattern: route.pattern };
        if (!wildcard && isWildcard(route.pattern) && subjectMatches(route.pattern, subject)) {
          wildcard = { endpoint, pattern: route.pattern };
        }
      }
    }
    return wildcard;
  }
}
