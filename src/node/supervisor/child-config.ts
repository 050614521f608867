/**
 * How the runtime's Node children (the frame source, the streamer) get their configuration:
 * once a child listens for IPC it says `{kind:'loaded'}`, and its first message is
 * `{kind:'config', config}`. Starting them without a configuration is what lets a node boot a
 * warm spare of each ahead of need (warm-spares.ts): booting Node is most of their start time.
 *
 * Dependency-free: the children load it, from dist or through ts-node.
 */
import type { ChildProcess } from 'node:child_process';

export interface LoadedMessage {
  kind: 'loaded';
}

export interface ConfigMessage<T> {
  kind: 'config';
  config: T;
}

/** In the child: says it has loaded, then resolves with the configuration of the first message. */
export function receiveConfig(): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('started without an IPC channel (spawn it with stdio "ipc")'));
    process.once('message', (m: unknown) => {
      const message = m as Partial<ConfigMessage<unknown>> | null;
      if (message?.kind !== 'config' || typeof message.config !== 'object' || message.config === null) {
        return reject(new Error('the first IPC message must be {kind:"config", config: {...}}'));
      }
      resolve(message.config);
    });
    const loaded: LoadedMessage = { kind: 'loaded' };
    process.send(loaded);
  });
}

/** In the parent: resolves when the child has loaded, rejects if it exits first. */
export function whenLoaded(child: ChildProcess): Promise<void> {
  return nextMessage<Partial<LoadedMessage>>(child, (m) => m.kind === 'loaded', 'it had loaded').then(() => undefined);
}

/**
 * In the parent: the child's next IPC message (an object) that `matches`. Rejects if the child
 * exits first ("it exited (…) before <what>") or, given `timeoutMs`, when none came in time.
 */
export function nextMessage<T extends object>(child: ChildProcess, matches: (m: T) => boolean, what: string, timeoutMs?: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = timeoutMs === undefined ? null : setTimeout(() => done(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: unknown): void => {
      if (m !== null && typeof m === 'object' && matches(m as T)) done(null, m as T);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => done(new Error(`it exited (${signal ?? `code ${code}`}) before ${what}`));
    const done = (err: Error | null, m?: T): void => {
      if (timer) clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** In the parent: hands a loaded child its configuration. */
export function sendConfig<T>(child: ChildProcess, config: T): void {
  const message: ConfigMessage<T> = { kind: 'config', config };
  child.send(message);
}
