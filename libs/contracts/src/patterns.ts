/**
 * Message patterns between roles (PROTOCOL.md §7). Names are dotted, owner first.
 * Requests answer data or a typed error; events answer nothing.
 */
export const Patterns = {
  // gateway
  accountVerify: 'gateway.account.verify', // request: any role -> gateway
  accountRevoked: 'gateway.account.revoked', // event: gateway -> everyone {id}: forget what you remember of its tokens
  agentRegister: 'agent.register', // request: agent -> gateway
  agentHeartbeat: 'agent.heartbeat', // event: agent -> gateway
  gatewaySessionCreate: 'gateway.session.create', // request: agent -> gateway (a stream-enabled instance needs a session)
  gatewayClientState: 'gateway.session.client-state', // event: node -> gateway (a client's peer came or went)
  gatewaySessionChanged: 'gateway.session.changed', // event: gateway -> every gateway: a session's signalling sockets must follow (active, replaced, ended)
  // agent
  agentInstanceSession: 'agent.instance.session', // request: AMS -> any agent: make a session for this instance
  // AMS
  amsInstanceLaunch: 'ams.instance.launch', // request: agent -> AMS
  amsInstanceStop: 'ams.instance.stop', // request: agent -> AMS
  amsInstanceDelete: 'ams.instance.delete', // request: agent -> AMS
  amsInstanceStatus: 'ams.instance.status', // event: AMS -> everyone
  amsApplicationList: 'ams.application.list', // request: gateway -> AMS: what can be streamed now
  amsCapacity: 'ams.capacity', // request: agent -> AMS: what its schedulable nodes hold and use
  amsNodeRegister: 'ams.node.register', // request: node -> AMS
  amsNodeHeartbeat: 'ams.node.heartbeat', // event: node -> AMS
  amsNodeInstanceStatus: 'ams.node.instance-status', // event: node -> AMS (runtime reports)
} as const;

/**
 * Extras of an event handler whose effect is on shared records (the sessions), so that one
 * gateway of several acts on each event: over NATS they subscribe in this queue group.
 */
export const ONE_GATEWAY = { queue: 'streamstack-gateway-events' } as const;

/** Requests AMS sends to the one node that hosts an instance (`delete` also removes its files). */
export const nodePattern = (node: string, action: 'start' | 'stop' | 'delete' | 'logs') =>
  `node.${node}.instance.${action}`;

/**
 * Gateway -> the agents of one region: `launch` starts an instance for a session, `terminate`
 * ends it. The region is in the subject so that NATS delivers to an agent that serves it.
 */
export const agentPattern = (region: string, action: 'session.launch' | 'session.terminate') => `agent.${region}.${action}`;

/**
 * A session's signalling: the client's messages `to-instance`, its instance's `to-client`, and
 * `ready` (node -> gateways, a StreamerReady): the instance's media process takes the client's
 * messages from now on, so the gateway stops holding them (before AMS and the gateway have
 * written the instance running and the session active: a client waits for its resp:discover).
 */
export const signalPattern = (session: string, direction: 'to-instance' | 'to-client' | 'ready') =>
  `signal.${session}.${direction}`;
