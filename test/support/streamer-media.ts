/**
 * Real media for streamer tests: an ffmpeg that packetizes H.264 and Opus RTP itself and sends
 * it to the streamer's ports (like the runtime's encoder, restartable so that its first frame
 * is an IDR), free UDP ports, and a lossy UDP relay that stands between a client and the
 * streamer to drop chosen RTP packets (NACK tests).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { parseRtpHeader, type RtpEndpoints } from '../../src/node/media/rtp';

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

export interface TestEncoderOptions extends RtpEndpoints {
  width?: number;
  height?: number;
  fps?: number;
  /** Long by default, so that only a restart (or the first frame) yields an IDR quickly. */
  gop?: number;
}

/** ffmpeg test source -> libx264 / libopus -> RTP on loopback; restart() = the runtime's restartEncoder. */
export class TestEncoder {
  private proc: ChildProcess | null = null;
  private restarting: Promise<void> | null = null;
  private stopped = false;
  restarts = 0;
  output = '';

  constructor(private readonly o: TestEncoderOptions) {}

  start(): void {
    const { width = 320, height = 240, fps = 30, gop = 300 } = this.o;
    const rtp = (port: number) => `rtp://127.0.0.1:${port}?pkt_size=1200&localaddr=127.0.0.1`;
    const args = [
      '-hide_banner', '-nostdin', '-loglevel', 'error',
      '-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
      '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline',
      '-pix_fmt', 'yuv420p', '-bf', '0', '-g', String(gop), '-b:v', '800k',
      '-f', 'rtp', '-payload_type', String(this.o.videoPayloadType), '-ssrc', String(this.o.videoSsrc | 0), '-rtpflags', 'skip_rtcp', rtp(this.o.videoPort),
      '-map', '1:a', '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '64k', '-application', 'lowdelay', '-frame_duration', '20',
      '-f', 'rtp', '-payload_type', String(this.o.audioPayloadType), '-ssrc', String(this.o.audioSsrc | 0), '-rtpflags', 'skip_rtcp', rtp(this.o.audioPort),
    ];
    const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000)));
    this.proc = proc;
  }

  /**
   * Kills the running encoder and starts a new one (its first frame is an IDR). Concurrent
   * calls share one restart, as the runtime's restartEncoder does: two would leave an orphan
   * ffmpeg sending a second stream to the same port.
   */
  restart(): Promise<void> {
    if (!this.restarting) {
      this.restarts++;
      this.restarting = (async () => {
        await this.kill();
        if (!this.stopped) this.start();
      })().finally(() => {
        this.restarting = null;
      });
    }
    return this.restarting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.restarting;
    await this.kill();
  }

  private async kill(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }
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
