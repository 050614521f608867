/**
 * Network helpers for media tests: free UDP ports, and a lossy UDP relay that stands between a
 * client and the media process to drop chosen RTP packets (NACK tests). The media itself comes
 * from a real frame source and media process (media-process.ts).
 */
import * as dgram from 'node:dgram';
import { parseRtpHeader } from '../../src/node/media/rtp';

export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets: dgram.Socket[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    sockets.push(s);
    ports.push(s.address().port);
  }
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/**
 * A UDP middlebox for one client: the client talks to `port`; the relay talks to the streamer
 * from a second socket, so the streamer learns it as a peer-reflexive candidate. RTP towards
 * the client (`ssrc`) whose first transmission `drop(seq)` selects is dropped; anything sent
 * again (a NACK retransmission: same sequence number) passes.
 */
export class LossyRelay {
  readonly dropped = new Set<number>();
  private readonly seen = new Set<number>();
  private client: { address: string; port: number } | null = null;
  /** Where the streamer's ICE socket is (settable once the offer names it). */
  target: { address: string; port: number } | null = null;

  private constructor(
    private readonly front: dgram.Socket,
    private readonly back: dgram.Socket,
  ) {}

  dropSsrc: number | null = null;
  drop: (sequence: number) => boolean = () => false;

  get port(): number {
    return this.front.address().port;
  }

  static async open(): Promise<LossyRelay> {
    const front = dgram.createSocket('udp4');
    const back = dgram.createSocket('udp4');
    await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => back.bind(0, '127.0.0.1', r));
    const relay = new LossyRelay(front, back);
    front.on('message', (msg, rinfo) => {
      relay.client = { address: rinfo.address, port: rinfo.port };
      if (relay.target) back.send(msg, relay.target.port, relay.target.address);
    });
    back.on('message', (msg) => {
      if (!relay.client) return;
      if (relay.shouldDrop(msg)) return;
      front.send(msg, relay.client.port, relay.client.address);
    });
    return relay;
  }

  private shouldDrop(msg: Buffer): boolean {
    // SRTP keeps the RTP header in clear: RTP (not RTCP: PT 200-207) of the chosen SSRC.
    if (msg.length < 12 || msg[0] >> 6 !== 2 || (msg[1] >= 192 && msg[1] <= 223)) return false;
    const h = parseRtpHeader(msg);
    if (!h || this.dropSsrc === null || h.ssrc !== this.dropSsrc) return false;
    if (this.seen.has(h.sequence)) return false; // a retransmission
    this.seen.add(h.sequence);
    if (!this.drop(h.sequence)) return false;
    this.dropped.add(h.sequence);
    return true;
  }

  close(): void {
    this.front.close();
    this.back.close();
  }
}
