/**
 * A user-named data channel joined to the application through a Unix socket (PROTOCOL.md §5a):
 * the node listens on `<dir>/<name>` while the channel is open, the application connects as a
 * client, and bytes pass unchanged both ways. Each client message is written as it is; each
 * read from the socket goes out as channel messages of at most 64 KiB. Neither direction queues
 * without bound: towards the client the socket pauses while the channel's bufferedAmount is
 * high; towards the application (a channel cannot be paused) at most 1 MiB waits, in the
 * socket's buffer or here before it connects, and what does not fit is dropped with one log
 * line. The channel closing closes the connection and the socket, and the application closing
 * its connection closes the channel.
 *
 * No path aliases: it runs in the media process, from dist.
 */
import { lstatSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { DATA_CHANNEL_NAME } from '../../../libs/protocol/src/clipboard';
/** The largest message the application's bytes are cut into. */
export const CHANNEL_MESSAGE_MAX = 64 * 1024;
/** What may wait for the application: unread in the socket, or before it connects. */
export const CHANNEL_BUFFER_MAX = 1024 * 1024;
/** Reading from the application pauses above this much unsent on the channel, resumes below the low mark. */
const CHANNEL_HIGH_WATER = 1024 * 1024;
const CHANNEL_LOW_WATER = 256 * 1024;

/** Why `name` cannot be a data channel to the application, or null. */
export function channelNameProblem(name: string): string | null {
  if (name === 'control') return '"control" is the control channel';
  return DATA_CHANNEL_NAME.test(name) ? null : `${JSON.stringify(name.slice(0, 40))} is not a channel name ([a-z0-9-]{1,32})`;
}

/** The part of node-datachannel's DataChannel a link drives. */
export interface ChannelEnd {
  sendMessageBinary(data: Buffer): boolean;
  bufferedAmount(): number;
  setBufferedAmountLowThreshold(bytes: number): void;
  close(): void;
}

type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export class ChannelLink {
  readonly path: string;
  private readonly server: Server;
  private connection: Socket | null = null;
  /** Client messages that came before the application connected. */
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  private dropping = false;
  private closed = false;

  constructor(
    readonly name: string,
    dir: string,
    private readonly channel: ChannelEnd,
    private readonly log: Log,
  ) {
    this.path = join(dir, name);
    removeSocket(this.path); // one left by an earlier client's channel
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (e) => {
      this.log('warn', `channel ${name}: cannot listen on ${this.path}: ${e.message}`);
      this.closeChannel();
    });
    this.server.listen(this.path);
    channel.setBufferedAmountLowThreshold(CHANNEL_LOW_WATER);
  }

  /** A message from the client: the application gets its bytes. */
  fromClient(data: Buffer): void {
    if (this.closed) return;
    const queued = this.connection ? this.connection.writableLength : this.waitingBytes;
    if (queued + data.length > CHANNEL_BUFFER_MAX) {
      if (!this.dropping) {
        this.log('warn', `channel ${this.name}: the application ${this.connection ? 'is not reading' : 'has not connected'}; dropping client messages beyond ${CHANNEL_BUFFER_MAX / 1024} KiB`);
      }
      this.dropping = true;
      return;
    }
    this.dropping = false;
    if (this.connection) this.connection.write(data);
    else {
      this.waiting.push(data);
      this.waitingBytes += data.length;
    }
  }

  /** The channel's bufferedAmount went below the low mark: read from the application again. */
  drained(): void {
    this.connection?.resume();
  }

  /** The channel closed (the client closed it, or its peer went): so do the connection and the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection?.destroy();
    this.connection = null;
    this.waiting = [];
    this.server.close();
    removeSocket(this.path);
  }

  private accept(socket: Socket): void {
    if (this.closed || this.connection) {
      if (!this.closed) this.log('warn', `channel ${this.name}: refused a second connection (one application connection per channel)`);
      socket.destroy();
      return;
    }
    this.connection = socket;
    this.log('info', `channel ${this.name}: the application connected`);
    socket.on('data', (chunk: Buffer) => this.fromApplication(chunk));
    socket.on('error', (e) => this.log('debug', `channel ${this.name}: ${e.message}`));
    socket.on('close', () => {
      if (this.closed) return;
      this.log('info', `channel ${this.name}: the application closed its connection; closing the channel`);
      this.closeChannel();
    });
    for (const data of this.waiting.splice(0)) socket.write(data);
    this.waitingBytes = 0;
  }

  private fromApplication(chunk: Buffer): void {
    try {
      for (let at = 0; at < chunk.length; at += CHANNEL_MESSAGE_MAX) this.channel.sendMessageBinary(chunk.subarray(at, at + CHANNEL_MESSAGE_MAX));
      if (this.channel.bufferedAmount() > CHANNEL_HIGH_WATER) this.connection?.pause();
    } catch (e) {
      this.log('warn', `channel ${this.name}: cannot send: ${(e as Error).message}`);
      this.closeChannel();
    }
  }

  private closeChannel(): void {
    this.close();
    try {
      this.channel.close();
    } catch {
      // closed already
    }
  }
}

/**
 * Removes the socket at `path`, if a socket is there. The directory is the application's to
 * write in: whatever else it put there stays (listening then fails, and the channel closes).
 */
function removeSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) rmSync(path, { force: true });
  } catch {
    // nothing there
  }
}
