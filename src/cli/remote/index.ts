import { ACCOUNT_COMMANDS } from './account.command';
import { APP_COMMANDS } from './app.command';
import { INSTANCE_COMMANDS } from './instance.command';
import { NODE_COMMANDS } from './node.command';

/**
 * The remote verbs of `streamstack` (account, app, instance, node): every @Command and
 * @SubCommand class, for the CliModule's `providers`. They need no other provider: each
 * run builds its own ApiClient from --url/--token and the environment.
 */
export const REMOTE_COMMANDS = [...ACCOUNT_COMMANDS, ...APP_COMMANDS, ...INSTANCE_COMMANDS, ...NODE_COMMANDS];

export { ApiClient, ApiError } from './api-client';
export type { Envelope } from './api-client';
export { DEFAULT_URL } from './remote-command';
