import { CLIPBOARD_MAX_BYTES, ClipboardAssembler, clipboardPieces, DATA_CHANNEL_NAME, utf8Bytes } from '../../protocol/src/clipboard';
import { StreamError } from './errors';
import { CreateSessionRequest, GatewayApi, Screen, Session, Signalling } from './gateway-api';
import { InputForwarder, InputOptions } from './input';
import { screenToFill } from './letterbox';
import { ClosedBy, Peer } from './peer';
import { sampleOf, StatsSample, StreamStats, summarise } from './stats';

export interface ClientOptions {
  /** The account token (PROTOCOL.md §2). */
  token: string;
  /** The gateway's origin; the page's own by default. */
  gateway?: string;
  /** Where the stream shows: the SDK adds a letterboxed <video> that fills it. */
  element: HTMLElement;
  /** User-named data channels to open (PROTOCOL.md §5a): `[a-z0-9-]{1,32}`, not `control`. */
  dataChannels?: string[];
  /** Play the application's sound (default true). */
  speaker?: boolean;
  /** Send the microphone to the application (default false; the page asks the user for it). */
  microphone?: boolean;
  /** Which input to forward (default: mouse, keyboard, touch and gamepad). */
  input?: InputOptions;
  /** How often `stats` is emitted, ms (default 1000; 0: never). */
  statsIntervalMs?: number;
  /**
   * When a connection goes while the session lives on (and is joinable, or this client watches
   * it), join it again: at once after a network drop, and after its instance restarted when its
   * node stopped or restarted; tries for up to connectTimeoutMs (default true).
   */
  reconnect?: boolean;
  /** How long one connection attempt may take, ms (default 30000: the instance may be starting). */
  connectTimeoutMs?: number;
  /** `relay`: reach the instance only through the gateway's TURN servers (default `all`). */
  iceTransportPolicy?: RTCIceTransportPolicy;
}

/** `connect()`'s choices: the session to create. `screen: 'fit'` sizes it to the element. */
export type ConnectOptions = Omit<CreateSessionRequest, 'screen'> & { screen?: Partial<Screen> | 'fit' };

export type ClientState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';

export type CloseReason = 'disconnected' | 'ended' | 'error';

export interface ClientEvents {
  /** The first frame is on screen. */
  ready: { session: Session };
  /** The stream is over: the page disconnected, the session ended, or an error left no way on. */
  closed: { reason: CloseReason; error?: StreamError };
  /** Something failed; `closed` follows when the stream cannot go on. */
  error: StreamError;
  /** A connection went and the SDK is joining the session again (`ready` follows when it is back). */
  reconnecting: { error: StreamError };
  stats: StreamStats;
  /** A control message from the instance (PROTOCOL.md §5): `show-ime`, `stream::role`, … */
  message: { type: string; data?: unknown };
  /** A message from the application on a user-named data channel. */
  'channel-message': { channel: string; data: string | ArrayBuffer };
  /** The application copied this text (`clipboard::changed`, joined from its pieces). */
  clipboard: { text: string };
  /** What this client is in its session: the one who drives, or one who watches. */
  role: { role: StreamRole };
}

export type StreamRole = 'driver' | 'spectator';



type Listener<T> = (payload: T) => void;

const LIVE = new Set(['created', 'active']);
/** Between two tries of a rejoin (the instance restarting, its node coming back). */
const REJOIN_RETRY_MS = 1000;
/** One try of a rejoin may take this long; the tries go on until connectTimeoutMs has passed. */
const REJOIN_ATTEMPT_MS = 10_000;

/**
 * Streams one session into an element: creates (`connect`) or joins (`join`) the session,
 * signals, shows the video, forwards input, reports stats, and joins again when a connection goes while the session lives on.
 *
 *     const client = new StreamstackClient({ token, element: document.querySelector('#stream') });
 *     client.on('ready', () => console.log('streaming'));
 *     client.on('error', (e) => console.error(e.code, e.message));
 *     await client.connect({ app: 'test-pattern', screen: 'fit' });
 */
export class StreamstackClient {
  readonly api: GatewayApi;
  readonly video: HTMLVideoElement;
  private readonly audio: HTMLAudioElement;
  private readonly listeners = new Map<keyof ClientEvents, Set<Listener<never>>>();
  private readonly options: Required<Omit<ClientOptions, 'gateway' | 'input'>> & { input: InputOptions };
  private peer: Peer | null = null;
  private input: InputForwarder | null = null;
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private lastSample: StatsSample | null = null;
  /** While joining again after a connection went: until when it keeps trying (0: not rejoining). */
  private rejoinUntil = 0;
  private currentState: ClientState = 'idle';
  private currentSession: Session | null = null;
  private latestStats: StreamStats | null = null;
  private currentRole: StreamRole | null = null;
  /** Joined as a spectator: input stays here. */
  private spectating = false;
  /** The microphone's track while streaming with `microphone: true`. */
  private mic: MediaStreamTrack | null = null;
  /** A `clipboard::changed` text, piece by piece. */
  private clipboardText = new ClipboardAssembler();
  private settle: { resolve: (s: Session) => void; reject: (e: StreamError) => void } | null = null;

  constructor(options: ClientOptions) {
    if (!options?.token) throw new StreamError('unauthorised', 'a token is needed to stream');
    if (!options.element) throw new TypeError('options.element: the element to show the stream in');
    for (const name of options.dataChannels ?? []) {
      if (!DATA_CHANNEL_NAME.test(name) || name === 'control') throw new TypeError(`data channel name "${name}": use [a-z0-9-]{1,32}, not "control"`);
    }
    this.options = {
      token: options.token,
      element: options.element,
      dataChannels: options.dataChannels ?? [],
      speaker: options.speaker ?? true,
      microphone: options.microphone ?? false,
      input: options.input ?? {},
      statsIntervalMs: options.statsIntervalMs ?? 1000,
      reconnect: options.reconnect ?? true,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      iceTransportPolicy: options.iceTransportPolicy ?? 'all',
    };
    this.api = new GatewayApi((options.gateway ?? location.origin).replace(/\/+$/, ''), options.token);
    this.video = document.createElement('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = true; // sound plays from its own element: a muted video may autoplay
    Object.assign(this.video.style, { width: '100%', height: '100%', objectFit: 'contain', display: 'block', background: '#000' });
    this.audio = document.createElement('audio');
    this.audio.autoplay = true;
  }

  get state(): ClientState {
    return this.currentState;
  }

  get session(): Session | null {
    return this.currentSession;
  }

  /** `driver` or `spectator`, once the instance has said (null before). */
  get role(): StreamRole | null {
    return this.currentRole;
  }

  /** The stats of the last interval (null before the first). */
  get stats(): StreamStats | null {
    return this.latestStats;
  }

  /** Whether the microphone is muted; null while none is sent (not asked for, refused, spectating). */
  get microphoneMuted(): boolean | null {
    return this.mic ? !this.mic.enabled : null;
  }

  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as Listener<never>);
    this.listeners.set(event, set);
    return () => this.off(event, listener);
  }

  off<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Creates a session and streams it; resolves once its first frame is on screen. */
  async connect(request: ConnectOptions): Promise<Session> {
    this.begin();
    try {
      const screen = request.screen === 'fit' ? this.fitScreen() : request.screen;
      const created = await this.api.createSession({ ...request, screen });
      const { url, stun_servers, ...session } = created;
      this.currentSession = session;
      return await this.stream({ url, stun_servers });
    } catch (e) {
      throw this.fatal(e);
    }
  }

  /**
   * Streams an existing session: takes over a joinable one (its earlier client's signalling
   * ends), or, with `spectator: true`, watches any live one beside its driver (no input is sent).
   */
  async join(sessionId: string, options: { screen?: Partial<Screen>; spectator?: boolean } = {}): Promise<Session> {
    this.begin();
    this.spectating = options.spectator === true;
    try {
      this.currentSession = await this.liveSession(sessionId);
      const { url, stun_servers } = await this.api.joinSession(sessionId, { ...(options.screen ? { screen: options.screen } : {}), ...(this.spectating ? { mode: 'spectator' as const } : {}) });
      return await this.stream({ url, stun_servers });
    } catch (e) {
      throw this.fatal(e);
    }
  }

  /**
   * Sends a control message (PROTOCOL.md §5), e.g. `clipboard::set`; false when the stream is
   * not connected.
   */
  sendControl(type: string, data: Record<string, unknown> = {}): boolean {
    return this.peer?.sendControl({ type, data }) ?? false;
  }

  /**
   * Makes `text` the application's clipboard (`clipboard::set`, sent in pieces); false when the
   * stream is not connected. Throws a RangeError over CLIPBOARD_MAX_BYTES.
   */
  setClipboard(text: string): boolean {
    const bytes = utf8Bytes(text);
    if (bytes > CLIPBOARD_MAX_BYTES) throw new RangeError(`clipboard text of ${bytes} bytes: at most ${CLIPBOARD_MAX_BYTES}`);
    return clipboardPieces(text).every((piece) => this.sendControl('clipboard::set', piece));
  }

  /**
   * Asks the instance to resize its display (`screen::resize`), to `size` or, by default, to
   * fill the element (fitScreen()). The next frame comes at the new size; the instance applies
   * at most a few a second, the last one asked for winning. False when not connected.
   */
  resizeRemote(size?: { width: number; height: number }): boolean {
    const { width, height } = size ?? this.fitScreen();
    return this.sendControl('screen::resize', { width, height });
  }

  /**
   * Mutes or unmutes the microphone (`microphone: true`): muted, the application hears silence
   * and the peer connection stays as it is. False when no microphone is sent.
   */
  muteMicrophone(muted: boolean): boolean {
    if (!this.mic) return false;
    this.mic.enabled = !muted;
    return true;
  }

  /** Sends text or bytes to the application on a user-named channel; false when it is not open. */
  send(channel: string, data: string | ArrayBuffer | ArrayBufferView): boolean {
    const ch = this.peer?.channels.get(channel);
    if (!ch || ch.readyState !== 'open') return false;
    ch.send(data as string);
    return true;
  }

  /**
   * Leaves the stream on purpose (`stream::disconnect`). The session follows its own rules:
   * an ephemeral one ends, a joinable one waits for a join.
   */
  async disconnect(): Promise<void> {
    if (this.currentState === 'closed' || this.currentState === 'idle') return;
    const peer = this.peer;
    if (peer?.sendControl({ type: 'stream::disconnect', data: {} })) {
      // Let the message leave before the connection closes under it.
      const deadline = Date.now() + 500;
      while (peer.control.bufferedAmount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    this.finish('disconnected');
  }

  /** Disconnects and deletes the session, which stops its instance. */
  async end(): Promise<void> {
    const id = this.currentSession?.id;
    await this.disconnect();
    if (id) await this.api.endSession(id);
  }

  /**
   * A screen that fills the element at its current size in device pixels (sharp on a phone's
   * or a HiDPI screen), within PROTOCOL.md §3's limits.
   */
  fitScreen(): Screen {
    const r = this.options.element.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    return { ...screenToFill({ width: r.width * dpr, height: r.height * dpr }), fps: 30, density: Math.round(160 * dpr) };
  }

  private emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<ClientEvents[K]>)(payload);
      } catch (e) {
        console.error(`streamstack: a "${event}" listener threw`, e);
      }
    }
  }

  private begin(): void {
    if (this.currentState !== 'idle' && this.currentState !== 'closed') throw new Error(`already ${this.currentState}: disconnect() first`);
    this.currentState = 'connecting';
    this.rejoinUntil = 0;
    this.latestStats = null;
    this.spectating = false;
    this.currentRole = null;
  }

  private async liveSession(id: string): Promise<Session> {
    const session = await this.api.session(id);
    if (!LIVE.has(session.status)) {
      throw new StreamError('session-ended', `session ${id} is ${session.status}${session.status_message ? `: ${session.status_message}` : ''}`);
    }
    return session;
  }

  /** Opens a connection; the promise settles on the first frame, or on the attempt's failure. */
  private async stream(signalling: Signalling): Promise<Session> {
    if (this.options.microphone && !this.spectating && !this.mic) {
      // Asked once per stream; refused or absent, the stream goes on without it.
      this.mic = await navigator.mediaDevices
        ?.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } })
        .then((s) => s.getAudioTracks()[0] ?? null)
        .catch((e: Error) => {
          console.warn(`streamstack: no microphone (${e.message}): streaming without it`);
          return null;
        }) ?? null;
      // Left while the page asked for it: nothing to stream to.
      if (this.currentState === 'closed') {
        this.mic?.stop();
        this.mic = null;
        throw new StreamError('connection-lost', 'disconnected before the stream started');
      }
    }
    return new Promise<Session>((resolve, reject) => {
      this.settle = { resolve, reject };
      this.openPeer(signalling);
    });
  }

  private openPeer(signalling: Signalling, timeoutMs = this.options.connectTimeoutMs): void {
    this.peer?.close();
    this.lastSample = null; // a new connection counts from zero
    this.clipboardText = new ClipboardAssembler();
    const peer: Peer = new Peer(
      {
        signalling,
        dataChannels: this.options.dataChannels,
        speaker: this.options.speaker,
        microphone: this.spectating ? null : this.mic,
        timeoutMs,
        iceTransportPolicy: this.options.iceTransportPolicy,
      },
      {
        track: (kind, stream) => (kind === 'video' ? this.showVideo(stream) : this.playAudio(stream)),
        connected: () => this.startStats(),
        failed: (error, closedBy) => {
          if (this.peer === peer) void this.onPeerFailed(error, closedBy);
        },
        control: (message) => this.onControl(message),
        channel: (channel, data) => this.emit('channel-message', { channel, data }),
      },
    );
    this.peer = peer;
  }

  private onControl(message: { type: string; data?: unknown }): void {
    const data = (message.data ?? {}) as { text?: unknown; more?: unknown; role?: unknown };
    if (message.type === 'clipboard::changed' && typeof data.text === 'string') {
      const result = this.clipboardText.add(data.text, data.more === true);
      // An instance sending more than the protocol allows: dropped whole, as the instance drops ours.
      if (result && 'dropped' in result) console.warn(`streamstack: the application's clipboard text was ignored: ${result.dropped}`);
      else if (result) this.emit('clipboard', { text: result.text });
    } else if (message.type === 'stream::role' && (data.role === 'driver' || data.role === 'spectator')) {
      this.currentRole = data.role;
      this.emit('role', { role: data.role });
    }
    this.emit('message', message);
  }

  private showVideo(stream: MediaStream): void {
    const { element } = this.options;
    if (!this.video.isConnected) element.replaceChildren(this.video, this.audio);
    this.video.srcObject = stream;
    const shown = () => {
      if (this.currentState === 'closed') return;
      this.currentState = 'ready';
      this.rejoinUntil = 0;
      if (!this.spectating) this.input ??= new InputForwarder(element, this.video, (type, data) => this.sendControl(type, data), this.options.input);
      this.emit('ready', { session: this.currentSession! });
      this.settle?.resolve(this.currentSession!);
      this.settle = null;
    };
    const video: HTMLVideoElement = this.video;
    if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(() => shown());
    else (video as HTMLVideoElement).addEventListener('playing', shown, { once: true });
    this.video.play().catch(() => undefined); // autoplay takes over when play() is refused
  }

  private playAudio(stream: MediaStream): void {
    this.audio.srcObject = stream;
    // Refused without a user gesture (a deep link): the picture streams on, silent.
    this.audio.play().catch(() => undefined);
  }

  private async onPeerFailed(error: StreamError, closedBy: ClosedBy | null): Promise<void> {
    const wasReady = this.currentState === 'ready';
    this.stopStats();
    // Did the session end under us? Then that is what the user needs to hear.
    const session = await this.sessionNow();
    if (this.currentState === 'closed' || session === 'ended') return;
    // Joining back would only take the session from whoever took it over.
    if (closedBy === 'replaced') return this.fail(error);
    if (this.rejoinUntil === 0) {
      if (!wasReady || !this.options.reconnect || !session || !(session.joinable || this.spectating)) return this.fail(error);
      this.rejoinUntil = Date.now() + this.options.connectTimeoutMs;
      this.currentState = 'reconnecting';
      this.emit('reconnecting', { error });
    }
    await this.rejoin(error);
  }

  /** The session as the gateway has it now; 'ended' (and the client closed) if it is over; null if it did not answer. */
  private async sessionNow(): Promise<Session | 'ended' | null> {
    const id = this.currentSession?.id;
    if (!id) return null;
    let session: Session;
    try {
      session = await this.api.session(id);
    } catch (e) {
      if (!(e instanceof StreamError && e.code === 'not-found')) return null;
      this.fail(new StreamError('session-ended', `session ${id} no longer exists`));
      return 'ended';
    }
    if (LIVE.has(session.status)) return session;
    this.fail(new StreamError('session-ended', `the session ended (${session.status}${session.status_message ? `: ${session.status_message}` : ''})`));
    return 'ended';
  }

  /**
   * Joins the session again: not while its instance is restarting, then one connection attempt
   * (whose failure comes back through onPeerFailed for the next), until rejoinUntil.
   */
  private async rejoin(error: StreamError): Promise<void> {
    for (;;) {
      if (this.currentState !== 'reconnecting') return;
      const left = this.rejoinUntil - Date.now();
      if (left <= 0) return this.fail(error);
      const session = await this.sessionNow();
      if (session === 'ended' || this.currentState !== 'reconnecting') return;
      if (session && !session.instance_restarting) {
        try {
          const { url, stun_servers } = await this.api.joinSession(session.id, this.spectating ? { mode: 'spectator' } : {});
          if (this.currentState !== 'reconnecting') return;
          this.openPeer({ url, stun_servers }, Math.min(REJOIN_ATTEMPT_MS, left));
          return;
        } catch (e) {
          // Refused for good (the account, the session's rules): no use trying again.
          if (e instanceof StreamError && ['unauthorised', 'forbidden', 'not-found', 'bad-request'].includes(e.code)) return this.fail(e);
        }
      }
      await new Promise((r) => setTimeout(r, REJOIN_RETRY_MS));
    }
  }

  private fail(error: StreamError): void {
    if (this.currentState === 'closed') return;
    this.emit('error', error);
    this.finish(error.code === 'session-ended' ? 'ended' : 'error', error);
  }

  /** Any failure of connect()/join(): reported once (fail() ignores a closed client), everything torn down. */
  private fatal(e: unknown): StreamError {
    const error = e instanceof StreamError ? e : new StreamError('signalling-failed', (e as Error)?.message ?? String(e));
    this.fail(error);
    return error;
  }

  private finish(reason: CloseReason, error?: StreamError): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.stopStats();
    this.input?.detach();
    this.input = null;
    this.peer?.close();
    this.peer = null;
    this.mic?.stop();
    this.mic = null;
    this.video.srcObject = null;
    this.audio.srcObject = null;
    this.settle?.reject(error ?? new StreamError('connection-lost', 'disconnected before the first frame'));
    this.settle = null;
    this.emit('closed', { reason, error });
  }

  private startStats(): void {
    this.stopStats();
    if (this.options.statsIntervalMs <= 0) return;
    this.statsTimer = setInterval(() => void this.sampleStats(), this.options.statsIntervalMs);
  }

  private stopStats(): void {
    clearInterval(this.statsTimer);
    this.statsTimer = undefined;
  }

  private async sampleStats(): Promise<void> {
    const pc = this.peer?.pc;
    if (!pc) return;
    const report = await pc.getStats().catch(() => null);
    if (!report || this.statsTimer === undefined) return;
    const sample = sampleOf(report.values() as Iterable<Record<string, unknown>>, Date.now());
    this.latestStats = summarise(this.lastSample, sample);
    this.lastSample = sample;
    this.emit('stats', this.latestStats);
  }
}
