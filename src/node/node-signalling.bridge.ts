import { Controller, OnApplicationBootstrap } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ClientStateEvent, Patterns, RelayedSignal, signalPattern, StreamerReady } from '@streamstack/contracts';
import { RpcClient } from '@streamstack/transport';
import type { ClientSignal } from './media-link/streamer.messages';
import { NodeRuntime } from './runtime/node-runtime.service';

/**
 * Carries signalling between the gateway (`signal.{session}.*`) and the streamers of this
 * node's instances, and tells the gateway when a streamer takes its session's signalling and
 * when a client's peer connection comes or goes.
 */
// Message patterns, not HTTP routes: nothing for the API document.
@ApiExcludeController()
@Controller()
export class NodeSignallingBridge implements OnApplicationBootstrap {
  constructor(
    private readonly runtime: NodeRuntime,
    private readonly rpc: RpcClient,
  ) {}

  onApplicationBootstrap(): void {
    this.runtime.onStreamerEvent((ev) => {
      if (ev.kind === 'signal') {
        const signal: RelayedSignal = { session_id: ev.session_id, generation: ev.generation, ...(ev.spectator ? { spectator: true } : {}), message: ev.message };
        this.rpc.emit(signalPattern(ev.session_id, 'to-client'), signal);
      } else if (ev.kind === 'ready') {
        const ready: StreamerReady = { session_id: ev.session_id };
        this.rpc.emit(signalPattern(ev.session_id, 'ready'), ready);
      } else {
        const state: ClientStateEvent = { session_id: ev.session_id, generation: ev.generation, state: ev.state, ...(ev.reason ? { reason: ev.reason } : {}), ...(ev.spectator ? { spectator: true } : {}) };
        this.rpc.emit(Patterns.gatewayClientState, state);
      }
    });
  }

  /**
   * Every session's client messages reach every node; the one hosting the session takes them.
   * Per message, so no DTO: the session id is only a lookup key, and the streamer checks the
   * generation and the message (streamer.messages.ts).
   */
  @EventPattern('signal.*.to-instance')
  toInstance(@Payload() signal: RelayedSignal) {
    this.runtime.signal(signal.session_id, signal.generation, signal.message as ClientSignal, signal.spectator === true);
  }
}
