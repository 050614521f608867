import { createSocket } from 'node:dgram';

/**
 * Hands out UDP ports for the encoder's RTP output. The default range sits below Linux's
 * ephemeral range (32768-60999): ffmpeg's own sending sockets bind ephemeral ports, and one of
 * them landing on another instance's RTP port would keep that instance's streamer from binding
 * it. A port is only handed out if it can be bound right now and no live instance holds it.
 */
export class UdpPortAllocator {
  private readonly taken = new Set<number>();
  private cursor: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly host: string,
  ) {
    if (!(Number.isInteger(min) && Number.isInteger(max) && min > 0 && max <= 65535 && min <= max)) {
      throw new Error(`invalid RTP port range ${min}-${max}`);
    }
    // Start somewhere random so that a restarted runtime does not reuse a port a stale
    // listener may still hold.
    this.cursor = min + Math.floor(Math.random() * (max - min + 1));
  }

  async allocate(count: number): Promise<number[]> {
    const got: number[] = [];
    const span = this.max - this.min + 1;
    for (let tried = 0; tried < span && got.length < count; tried++) {
      const port = this.cursor;
      this.cursor = port >= this.max ? this.min : port + 1;
      if (this.taken.has(port)) continue;
      this.taken.add(port); // claim before the await so concurrent starts cannot pick it too
      if (await canBind(port, this.host)) got.push(port);
      else this.taken.delete(port);
    }
    if (got.length < count) {
      this.release(got);
      throw new Error(`no free UDP port in ${this.min}-${this.max}`);
    }
    return got;
  }

  release(ports: Iterable<number>): void {
    for (const p of ports) this.taken.delete(p);
  }
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}
