import type { StreamerLogLevel } from '../media-link/streamer.messages';

/** Client candidates kept before the answer is set; more are dropped with a warning. */
const MAX_QUEUED_CANDIDATES = 100;
/** How long our candidates wait, after the answer, for the client's first one. */
export const CANDIDATE_HOLD_MS = 30;

export interface Candidate {
  /** The candidate line without `a=`. */
  candidate: string;
  mid: string;
}

/**
 * Takes our candidates (and end-of-candidates) out of the offer into `withheld`, to be trickled
 * once the answer is set. libdatachannel 0.24.5 hands the answer to ICE before it stores it
 * (setRemoteDescription: iceTransport->setRemoteDescription, then processRemoteDescription). A
 * browser that knows our address from the offer has checked us and sent its ClientHello
 * already (libdatachannel buffers it), so ICE and DTLS complete within a loopback round trip of
 * that hand-over, and the browser's certificate can be checked before the answer (and its
 * fingerprint) is stored: "unknown CA", state failed. A browser that does not know where we are
 * cannot reach us before the answer is stored.
 */
export function withholdCandidates(sdp: string, withheld: Candidate[]): string {
  let mid = '0';
  return sdp
    .split('\n')
    .filter((raw) => {
      const line = raw.replace(/\r$/, '');
      const m = /^a=mid:(\S+)/.exec(line);
      if (m) mid = m[1];
      if (line.startsWith('a=candidate:')) {
        withheld.push({ candidate: line.slice(2), mid });
        return false;
      }
      return line !== 'a=end-of-candidates';
    })
    .join('\n');
}

export interface CandidateIo {
  /** Signals one of our candidates to the client. */
  send(c: Candidate): void;
  /** Hands one of the client's candidates to the peer connection. */
  apply(c: Candidate): void;
  log(level: StreamerLogLevel, message: string): void;
  /** ms since the peer's settings, for the log. */
  ms(): number;
}

/**
 * When each side's trickled ICE candidates may go, for one peer connection. The client's wait
 * for the answer (they mean nothing to ICE before it). Ours wait for the answer too
 * (`withholdCandidates`), and then for the client's first candidate, at most `CANDIDATE_HOLD_MS`:
 * a browser's first check that reaches us before its candidate does makes libjuice send its own
 * check 50 ms behind it (the gateway's mdns-candidate.ts has the same reason). A browser's
 * candidates follow its answer within a few ms; a client that sends none is not held up for long.
 */
export class CandidateExchange {
  private readonly pendingLocal: Candidate[] = [];
  private readonly sentLocal = new Set<string>();
  private readonly pendingRemote: Candidate[] = [];
  private answered = false;
  private released = false;
  private closed = false;
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(private readonly io: CandidateIo) {}

  /** The offer without our candidates, which wait here. */
  withholdFrom(offerSdp: string): string {
    return withholdCandidates(offerSdp, this.pendingLocal);
  }

  get answerSet(): boolean {
    return this.answered;
  }

  /**
   * The answer is set: the client's queued candidates are applied, and ours go now if the
   * client has told where it is (queued, or in the answer), else on its first candidate or the
   * hold's end. Returns how many of the client's were queued.
   */
  onAnswer(answerSdp: string): number {
    this.answered = true;
    const queued = this.pendingRemote.splice(0);
    for (const c of queued) this.io.apply(c);
    if (queued.length > 0 || /^a=candidate:/m.test(answerSdp)) this.release('with the answer');
    else {
      this.holdTimer = setTimeout(() => this.release(`no candidate of the client's within ${CANDIDATE_HOLD_MS} ms`), CANDIDATE_HOLD_MS);
      this.holdTimer.unref();
    }
    return queued.length;
  }

  /** One of the client's. */
  remote(c: Candidate): void {
    if (this.closed) return;
    if (!this.answered) {
      if (this.pendingRemote.length >= MAX_QUEUED_CANDIDATES) return this.io.log('warn', 'too many candidates before the answer; dropping one');
      this.pendingRemote.push(c);
      return;
    }
    this.io.apply(c);
    this.release("after the client's first");
  }

  /** One of ours, as the ICE agent finds it. */
  local(c: Candidate): void {
    if (this.closed) return;
    if (this.released) this.send(c);
    else this.pendingLocal.push(c);
  }

  /** Nothing goes either way from now on. */
  close(): void {
    this.closed = true;
    clearTimeout(this.holdTimer);
  }

  private release(when: string): void {
    if (this.released || this.closed) return;
    this.released = true;
    clearTimeout(this.holdTimer);
    this.io.log('info', `our candidates sent ${when} (${this.io.ms()} ms after settings)`);
    for (const c of this.pendingLocal.splice(0)) this.send(c);
  }

  /** Both taken out of the offer and reported by the ICE agent: sent once. */
  private send(c: Candidate): void {
    if (this.sentLocal.has(c.candidate)) return;
    this.sentLocal.add(c.candidate);
    this.io.send(c);
  }
}
