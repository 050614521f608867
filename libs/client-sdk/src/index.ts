/**
 * The streamstack client SDK: stream a session of a streamstack (or Anbox Cloud) stream
 * gateway into a page. Served by the gateway at /sdk/streamstack.mjs (ES module),
 * /sdk/streamstack.js (the global `Streamstack`) and /sdk/streamstack.d.ts.
 */
export { StreamstackClient } from './client';
export { CLIPBOARD_MAX_BYTES } from '../../protocol/src/clipboard';
export type { ClientEvents, ClientOptions, ClientState, CloseReason, ConnectOptions, StreamRole } from './client';
export { StreamError } from './errors';
export type { StreamErrorCode } from './errors';
export { GatewayApi } from './gateway-api';
export type { CreateSessionRequest, ListOptions, Page, Screen, Session, SessionStatus, Signalling, StunServer } from './gateway-api';
export type { InputOptions } from './input';
export { contentRect, screenToFill, SCREEN_LIMITS, toStreamPixel } from './letterbox';
export type { Rect, Size } from './letterbox';
export type { StreamStats } from './stats';
export { SDK_KEY_CODES } from '../../protocol/src/keys';
