/*
 * streamstack test client: a minimal browser peer that speaks the signalling protocol exactly as
 * Anbox Cloud's JavaScript streaming SDK does (API version 2, PROTOCOL.md §4), plus what tests and
 * benchmarks need to look inside: step timestamps, getStats() helpers, the control channel, pixel
 * grabs of decoded frames and a reader for the timestamp strip of PROTOCOL.md §9.
 *
 * Plain JS, no bundler, no dependencies. Everything is on `window.streamstack`:
 *
 *   const c = streamstack.connect({ url, stun_servers });      // the answer of POST /1.0/sessions or join
 *   await streamstack.requestAndConnect(gateway, token, '/1.0/sessions', body); // or the page asks itself
 *   await c.connected;                                          // ICE connected (the socket is closed then)
 *   await c.firstFrame;                                         // first frame presented (rVFC)
 *   await c.stats();                                            // { video, audio, transport, ... }
 *   c.sendControl({ type: 'input::key', data: { code: 30, pressed: true } });
 *   c.startStripReader(); ...; c.stopStripReader();             // capture-to-display latency samples
 *   c.close();
 *
 * Times: every step is recorded twice: `steps[name]` on the performance clock (performance.now())
 * and `wall[name]` in ms since the Unix epoch (performance.timeOrigin + performance.now()), which is
 * the clock the server and the timestamp strip use (same machine, same clock).
 */
(function () {
  'use strict';

  const STRIP_CELLS = 48;
  const STRIP_CELL = 16;
  const STRIP_WIDTH = STRIP_CELLS * STRIP_CELL;

  /** ms since the Unix epoch, sub-millisecond, on the performance clock. */
  const wallNow = () => performance.timeOrigin + performance.now();
  /** A performance-clock timestamp (performance.now(), rVFC times) as ms since the Unix epoch. */
  const toWall = (perfTime) => performance.timeOrigin + perfTime;

  const logEl = () => document.getElementById('log');
  function log(text) {
    const line = `${new Date().toISOString()} ${text}`;
    const el = logEl();
    if (el) el.textContent += `${line}\n`;
    console.log(`[client] ${text}`);
  }

  /**
   * Reads the timestamp strip (PROTOCOL.md §9) from RGBA pixels whose rows are `width` pixels wide
   * and whose top-left is the frame's top-left: the centre pixel of each of the 48 cells, luma
   * (BT.601) thresholded at half scale, most significant bit first. Returns ms mod 2^48.
   */
  function readStrip(rgba, width) {
    let value = 0;
    const y = STRIP_CELL >> 1;
    for (let i = 0; i < STRIP_CELLS; i++) {
      const x = i * STRIP_CELL + (STRIP_CELL >> 1);
      const o = (y * width + x) * 4;
      const luma = 0.299 * rgba[o] + 0.587 * rgba[o + 1] + 0.114 * rgba[o + 2];
      value = value * 2 + (luma >= 128 ? 1 : 0); // exact: value < 2^48 < 2^53
    }
    return value;
  }

  /** Draws the strip for `ms` into a 2D context (white cells for 1, black for 0), as §9 says. */
  function drawStrip(ctx, ms) {
    let value = ((Math.floor(ms) % 2 ** 48) + 2 ** 48) % 2 ** 48;
    for (let i = STRIP_CELLS - 1; i >= 0; i--) {
      const bit = value % 2;
      value = Math.floor(value / 2);
      ctx.fillStyle = bit ? '#ffffff' : '#000000';
      ctx.fillRect(i * STRIP_CELL, 0, STRIP_CELL, STRIP_CELL);
    }
  }

  /** Luma of RGBA pixels, one byte each, base64-encoded (compact across page.evaluate). */
  function lumaBase64(rgba) {
    const n = rgba.length / 4;
    const out = new Uint8Array(n);
    for (let i = 0, o = 0; i < n; i++, o += 4) out[i] = Math.round(0.299 * rgba[o] + 0.587 * rgba[o + 1] + 0.114 * rgba[o + 2]);
    let s = '';
    for (let i = 0; i < n; i += 0x8000) s += String.fromCharCode.apply(null, out.subarray(i, i + 0x8000));
    return btoa(s);
  }

  function quantiles(values, qs) {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : null);
    return Object.fromEntries(qs.map((q) => [`p${Math.round(q * 100)}`, at(q)]));
  }

  class StreamClient {
    /**
     * @param session `{url, stun_servers}` as POST /1.0/sessions (or join) answered it
     * @param options `data_channels` (user-named channels besides `control`), `enable_video`,
     *   `enable_speaker`, `preferred_decoder_codecs`, `video` (the element to attach to),
     *   `jitterBufferTarget` (ms, set on each receiver; unset = the browser's default, as the SDK),
     *   `withoutHeaderExtensions` (drop the offer's `a=extmap` lines before applying it, as a
     *   browser that knows none of them would answer; a benchmark baseline, not an SDK behaviour),
     *   `iceTransportPolicy` (`relay`: TURN only, to prove a path through the TURN server)
     */
    constructor(session, options = {}) {
      if (!session || typeof session.url !== 'string') throw new Error('connect() needs {url, stun_servers}');
      this.session = session;
      this.options = {
        data_channels: [],
        enable_video: true,
        enable_speaker: true,
        preferred_decoder_codecs: ['H264'],
        ...options,
      };
      this.video = this.options.video || document.getElementById('video');
      this.steps = {};
      this.wall = {};
      this.errors = [];
      this.sent = [];
      this.received = [];
      this.controlMessages = [];
      this.channelMessages = {};
      this.counters = { localCandidates: 0, remoteCandidates: 0, remoteCandidatesQueued: 0, addIceCandidateErrors: 0 };
      this.iceStates = [];
      this.connectionStates = [];
      this.wsClose = null;
      this.firstFrameMeta = null;
      this.stripSamples = [];
      this.stripInvalid = 0;
      this.stripRunning = false;
      this.tracks = [];
      this.closed = false;
      this._remoteSet = false;
      this._pendingRemote = [];
      this._stream = null;

      this.connected = new Promise((res, rej) => {
        this._resolveConnected = res;
        this._rejectConnected = rej;
      });
      this.firstFrame = new Promise((res, rej) => {
        this._resolveFirstFrame = res;
        this._rejectFirstFrame = rej;
      });
      // Nobody may be awaiting these; failures are still in `errors`.
      this.connected.catch(() => undefined);
      this.firstFrame.catch(() => undefined);

      this._start();
    }

    step(name) {
      if (this.steps[name] !== undefined) return;
      this.steps[name] = performance.now();
      this.wall[name] = toWall(this.steps[name]);
    }

    fail(message) {
      const err = new Error(message);
      this.errors.push(message);
      log(`ERROR ${message}`);
      this._rejectConnected(err);
      this._rejectFirstFrame(err);
      return err;
    }

    _start() {
      const o = this.options;
      this.step('start');
      const iceServers = (this.session.stun_servers || []).map((s) => ({ urls: s.urls, username: s.username, credential: s.password }));
      const pc = (this.pc = new RTCPeerConnection({ iceServers, ...(o.iceTransportPolicy ? { iceTransportPolicy: o.iceTransportPolicy } : {}) }));

      // Data channels first, so that the instance's offer finds them (the SDK does the same).
      this.control = pc.createDataChannel('control');
      this.control.onopen = () => {
        this.step('controlOpen');
        log('control channel open');
      };
      this.control.onclose = () => this.step('controlClosed');
      this.control.onmessage = (ev) => {
        let msg = ev.data;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          /* kept as text */
        }
        this.controlMessages.push({ at: wallNow(), msg });
      };
      this.channels = {};
      for (const name of o.data_channels) {
        const ch = pc.createDataChannel(name);
        ch.binaryType = 'arraybuffer';
        this.channelMessages[name] = [];
        ch.onmessage = (ev) => this.channelMessages[name].push(typeof ev.data === 'string' ? ev.data : Array.from(new Uint8Array(ev.data)));
        this.channels[name] = ch;
      }
      this.step('channelsCreated');

      pc.onicecandidate = (ev) => {
        const c = ev.candidate;
        if (!c || !c.candidate) {
          this.step('gatheringDone');
          return; // end of candidates: the SDK does not signal it
        }
        this.counters.localCandidates++;
        this.step('firstLocalCandidate');
        this.send({ type: 'candidate', candidate: btoa(c.candidate), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
      };
      pc.oniceconnectionstatechange = () => {
        const state = pc.iceConnectionState;
        this.iceStates.push({ state, at: wallNow() });
        log(`ice ${state}`);
        if (state === 'checking') this.step('iceChecking');
        if (state === 'connected' || state === 'completed') {
          this.step('iceConnected');
          this._resolveConnected();
          // Media and data flow peer to peer from here on: signalling is done.
          if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'connected');
        }
        if (state === 'failed') this.fail('ICE failed');
        if (state === 'disconnected' || state === 'closed') this.step(`ice_${state}`);
      };
      pc.onconnectionstatechange = () => {
        const state = pc.connectionState;
        this.connectionStates.push({ state, at: wallNow() });
        if (state === 'connected') this.step('dtlsConnected');
        if (state === 'failed' || state === 'closed' || state === 'disconnected') this.step(`pc_${state}`);
      };
      pc.ontrack = (ev) => this._onTrack(ev);

      const ws = (this.ws = new WebSocket(this.session.url));
      ws.onopen = () => {
        this.step('wsOpen');
        this.send({ type: 'discover' });
        this.step('discoverSent');
      };
      ws.onmessage = (ev) => this._onSignal(ev.data).catch((e) => this.fail(`handling ${String(ev.data).slice(0, 80)}: ${e && e.message ? e.message : e}`));
      ws.onerror = () => log('signalling socket error');
      ws.onclose = (ev) => {
        this.wsClose = { code: ev.code, reason: ev.reason, at: wallNow() };
        this.step('wsClosed');
        log(`signalling socket closed ${ev.code} ${ev.reason}`);
        if (!this.steps.iceConnected && !this.closed) this.fail(`signalling socket closed (${ev.code} ${ev.reason}) before ICE connected`);
      };
    }

    send(msg) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
      this.sent.push({ at: wallNow(), msg });
      this.ws.send(JSON.stringify(msg));
      return true;
    }

    async _onSignal(data) {
      const msg = JSON.parse(data);
      this.received.push({ at: wallNow(), msg });
      switch (msg.type) {
        case 'resp:discover': {
          this.step('discoverResp');
          const o = this.options;
          this.send({
            type: 'settings',
            api_version: 2,
            data_channels: o.data_channels,
            enable_speaker: o.enable_speaker,
            enable_microphone: false,
            enable_video: o.enable_video,
            enable_camera: false,
            video: { preferred_decoder_codecs: o.preferred_decoder_codecs },
          });
          this.step('settingsSent');
          break;
        }
        case 'offer': {
          this.step('offerReceived');
          let offer = atob(msg.sdp);
          if (this.options.withoutHeaderExtensions) offer = offer.replace(/^a=extmap:.*\r\n/gm, '');
          await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
          this._remoteSet = true;
          this.step('remoteSet');
          for (const c of this._pendingRemote.splice(0)) await this._addRemote(c);
          const answer = await this.pc.createAnswer();
          await this.pc.setLocalDescription(answer);
          this.send({ type: 'answer', sdp: btoa(answer.sdp) });
          this.step('answerSent');
          break;
        }
        case 'candidate': {
          this.counters.remoteCandidates++;
          this.step('firstRemoteCandidate');
          const c = { candidate: atob(msg.candidate), sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex };
          if (!this._remoteSet) {
            this.counters.remoteCandidatesQueued++;
            this._pendingRemote.push(c);
          } else {
            await this._addRemote(c);
          }
          break;
        }
        case 'error':
          this.errors.push(`signalling error: ${msg.message}`);
          log(`signalling error: ${msg.message}`);
          break;
        default:
          break; // unknown types are ignored, as the SDK does
      }
    }

    async _addRemote(c) {
      try {
        await this.pc.addIceCandidate(c);
      } catch (e) {
        this.counters.addIceCandidateErrors++;
        this.errors.push(`addIceCandidate(${c.candidate}): ${e.message}`);
      }
    }

    _onTrack(ev) {
      const kind = ev.track.kind;
      this.tracks.push({ kind, id: ev.track.id, streams: ev.streams.length, at: wallNow() });
      this.step(kind === 'video' ? 'videoTrack' : 'audioTrack');
      // Not something the SDK does: lets a benchmark see how much of the latency is the
      // browser's jitter buffer (RTCRtpReceiver.jitterBufferTarget, ms).
      if (this.options.jitterBufferTarget !== undefined && 'jitterBufferTarget' in ev.receiver) {
        ev.receiver.jitterBufferTarget = this.options.jitterBufferTarget;
      }
      ev.track.onended = () => this.step(`${kind}TrackEnded`);
      ev.track.onmute = () => this.step(`${kind}TrackMuted`);
      const stream = ev.streams && ev.streams[0];
      if (!stream) {
        // The SDK reads the MediaStream from here: an offer without msid leaves the page blank.
        throw this.fail(`the ${kind} track event has no streams[0] (the offer announces no msid)`);
      }
      // As the SDK does: the video's stream goes to the <video>, the audio's to an <audio>
      // (the instance announces them as two streams, so the browser does not lip-sync them).
      if (kind === 'video' && this.video.srcObject !== stream) {
        this._stream = stream;
        this.video.srcObject = stream;
        this.video.onloadedmetadata = () => this.step('loadedMetadata');
        const played = this.video.play();
        if (played) played.catch((e) => this.errors.push(`video.play(): ${e.message}`));
      } else if (kind === 'audio') {
        this.audio = this.audio || document.createElement('audio');
        this.audio.autoplay = true;
        this.audio.srcObject = stream;
        const played = this.audio.play();
        if (played) played.catch((e) => this.errors.push(`audio.play(): ${e.message}`));
      }
      if (kind === 'video') {
        this.video.requestVideoFrameCallback((now, meta) => {
          this.step('firstFrame');
          // The frame's own presentation time, not the callback's.
          this.steps.firstFrame = meta.presentationTime;
          this.wall.firstFrame = toWall(meta.presentationTime);
          this.firstFrameMeta = this._meta(meta);
          this._resolveFirstFrame(this.wall.firstFrame);
        });
      }
    }

    _meta(meta) {
      return {
        presentationTime: toWall(meta.presentationTime),
        expectedDisplayTime: toWall(meta.expectedDisplayTime),
        receiveTime: meta.receiveTime !== undefined ? toWall(meta.receiveTime) : null,
        captureTime: meta.captureTime !== undefined ? toWall(meta.captureTime) : null,
        rtpTimestamp: meta.rtpTimestamp ?? null,
        mediaTime: meta.mediaTime,
        presentedFrames: meta.presentedFrames,
        width: meta.width,
        height: meta.height,
        processingDuration: meta.processingDuration ?? null,
      };
    }

    /** Sends `obj` as JSON on the control channel (PROTOCOL.md §5). */
    sendControl(obj) {
      if (!this.control || this.control.readyState !== 'open') throw new Error(`control channel is ${this.control ? this.control.readyState : 'missing'}`);
      this.control.send(JSON.stringify(obj));
      return true;
    }

    /** Sends bytes (array of numbers) or text on a user-named channel. */
    sendChannel(name, data) {
      const ch = this.channels[name];
      if (!ch || ch.readyState !== 'open') throw new Error(`channel ${name} is not open`);
      ch.send(typeof data === 'string' ? data : new Uint8Array(data));
      return true;
    }

    /** The numbers tests look at, from getStats(). */
    async stats() {
      const report = await this.pc.getStats();
      const all = {};
      report.forEach((s) => (all[s.id] = s));
      const pick = (s, keys) => (s ? Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]])) : null);
      let video = null;
      let audio = null;
      let pair = null;
      for (const s of Object.values(all)) {
        if (s.type === 'inbound-rtp' && s.kind === 'video') video = s;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audio = s;
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = all[s.selectedCandidatePairId];
      }
      const codec = (s) => (s && s.codecId && all[s.codecId] ? all[s.codecId].mimeType : null);
      const candidate = (id) => pick(all[id], ['candidateType', 'address', 'port', 'protocol']);
      return {
        at: wallNow(),
        iceConnectionState: this.pc.iceConnectionState,
        connectionState: this.pc.connectionState,
        video: video && {
          codec: codec(video),
          ...pick(video, [
            'framesDecoded', 'framesReceived', 'framesDropped', 'keyFramesDecoded', 'frameWidth', 'frameHeight', 'framesPerSecond',
            'packetsReceived', 'packetsLost', 'bytesReceived', 'nackCount', 'pliCount', 'firCount', 'jitter',
            'jitterBufferDelay', 'jitterBufferEmittedCount', 'jitterBufferTargetDelay', 'totalDecodeTime', 'totalProcessingDelay',
            'totalAssemblyTime', 'decoderImplementation', 'freezeCount', 'totalFreezesDuration',
          ]),
        },
        audio: audio && {
          codec: codec(audio),
          ...pick(audio, ['packetsReceived', 'packetsLost', 'bytesReceived', 'nackCount', 'totalSamplesReceived', 'concealedSamples', 'jitter', 'jitterBufferDelay', 'jitterBufferEmittedCount']),
        },
        pair: pair && {
          ...pick(pair, ['state', 'currentRoundTripTime', 'bytesReceived', 'bytesSent']),
          local: candidate(pair.localCandidateId),
          remote: candidate(pair.remoteCandidateId),
        },
      };
    }

    /**
     * Resolves in the next presented frame's rVFC with the luma (base64, one byte a pixel) of
     * the rectangle `{x, y, width, height}` of that frame (whole frame by default) and its strip.
     */
    grabFrame(rect) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no frame presented within 5 s')), 5000);
        this.video.requestVideoFrameCallback((now, meta) => {
          clearTimeout(timer);
          const vw = this.video.videoWidth;
          const vh = this.video.videoHeight;
          const r = { x: 0, y: 0, width: vw, height: vh, ...(rect || {}) };
          const canvas = document.createElement('canvas');
          canvas.width = vw;
          canvas.height = vh;
          const ctx = canvas.getContext('2d', { willReadFrequently: true });
          ctx.drawImage(this.video, 0, 0, vw, vh);
          const img = ctx.getImageData(r.x, r.y, r.width, r.height);
          const strip = vw >= STRIP_WIDTH ? readStrip(ctx.getImageData(0, 0, STRIP_WIDTH, STRIP_CELL).data, STRIP_WIDTH) : null;
          resolve({ width: vw, height: vh, rect: r, luma: lumaBase64(img.data), strip, meta: this._meta(meta) });
        });
      });
    }

    /**
     * Reads the timestamp strip of every presented frame: latency = presentation time (on the
     * wall clock) − the strip's value. Samples whose strip is not within ±10 s of now (a torn or
     * badly decoded strip) are counted in `stripInvalid` and left out.
     */
    startStripReader(options = {}) {
      const max = options.maxSamples || 100000;
      if (this.stripRunning) return;
      this.stripRunning = true;
      const canvas = (this._stripCanvas = document.createElement('canvas'));
      canvas.width = STRIP_WIDTH;
      canvas.height = STRIP_CELL;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const onFrame = (now, meta) => {
        if (!this.stripRunning) return;
        const cbWall = wallNow();
        ctx.drawImage(this.video, 0, 0, STRIP_WIDTH, STRIP_CELL, 0, 0, STRIP_WIDTH, STRIP_CELL);
        const strip = readStrip(ctx.getImageData(0, 0, STRIP_WIDTH, STRIP_CELL).data, STRIP_WIDTH);
        const readMs = wallNow() - cbWall;
        const presented = toWall(meta.presentationTime);
        if (Math.abs(presented - strip) > 10_000) {
          this.stripInvalid++;
        } else {
          this.stripSamples.push({
            strip,
            presented,
            latency: presented - strip,
            receive: meta.receiveTime !== undefined ? toWall(meta.receiveTime) - strip : null,
            expectedDisplay: toWall(meta.expectedDisplayTime) - strip,
            callback: cbWall - strip,
            presentedFrames: meta.presentedFrames,
            // How long drawing + reading the strip took on the main thread.
            readMs,
            // Date.now() (the clock the strip is written with) minus the performance clock on
            // the wall; within 1 ms (Date.now()'s resolution) when the conversion is sound.
            clockSkew: Date.now() - wallNow(),
          });
        }
        if (this.stripSamples.length >= max) this.stripRunning = false;
        else this.video.requestVideoFrameCallback(onFrame);
      };
      this.video.requestVideoFrameCallback(onFrame);
    }

    stopStripReader() {
      this.stripRunning = false;
      return this.stripSummary();
    }

    stripSummary() {
      const s = this.stripSamples;
      const pick = (k) => s.map((x) => x[k]).filter((v) => v !== null && v !== undefined);
      return {
        samples: s.length,
        invalid: this.stripInvalid,
        latency: quantiles(pick('latency'), [0.5, 0.95, 0.99]),
        receive: quantiles(pick('receive'), [0.5, 0.95, 0.99]),
        clockSkew: quantiles(pick('clockSkew'), [0.5, 0.99]),
        readMs: quantiles(pick('readMs'), [0.5, 0.95]),
      };
    }

    /** What a test wants to see of this client at once. */
    snapshot() {
      return {
        steps: this.steps,
        wall: this.wall,
        errors: this.errors,
        counters: this.counters,
        iceStates: this.iceStates,
        connectionStates: this.connectionStates,
        iceConnectionState: this.pc.iceConnectionState,
        connectionState: this.pc.connectionState,
        controlState: this.control ? this.control.readyState : null,
        channelStates: Object.fromEntries(Object.entries(this.channels).map(([k, c]) => [k, c.readyState])),
        wsClose: this.wsClose,
        tracks: this.tracks,
        sent: this.sent.map((x) => x.msg),
        received: this.received.map((x) => x.msg),
        firstFrameMeta: this.firstFrameMeta,
        videoWidth: this.video.videoWidth,
        videoHeight: this.video.videoHeight,
      };
    }

    /** Ends this client: the control channel says goodbye, the peer connection closes. */
    close(options = {}) {
      if (this.closed) return;
      this.closed = true;
      this.stripRunning = false;
      if (options.disconnect !== false && this.control && this.control.readyState === 'open') {
        try {
          this.sendControl({ type: 'stream::disconnect', data: {} });
        } catch {
          /* closing anyway */
        }
      }
      if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'bye');
      this.pc.close();
      if (this.video.srcObject === this._stream) this.video.srcObject = null;
      if (this.audio) this.audio.srcObject = null;
    }
  }

  const api = {
    StreamClient,
    readStrip,
    drawStrip,
    lumaBase64,
    quantiles,
    wallNow,
    STRIP_WIDTH,
    STRIP_CELL,
    /** The current client (the latest `connect`). */
    client: null,
    clients: [],
    connect(session, options) {
      const c = new StreamClient(session, options);
      api.client = c;
      api.clients.push(c);
      return c;
    },
    /**
     * A gateway POST made by the page itself (/1.0/sessions, …/join), connecting the
     * moment it answers with a session, as an application's page does: nothing between the
     * answer and connect(). Resolves with `{status, body, requested, answered}` (wall clock);
     * the client's `wall.request` / `wall.requestAnswered` say the same.
     */
    async requestAndConnect(gateway, token, path, body, options) {
      const requested = wallNow();
      const res = await fetch(gateway + path, {
        method: 'POST',
        headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answered = wallNow();
      const envelope = await res.json();
      if (res.ok && envelope.metadata && typeof envelope.metadata.url === 'string') {
        const c = api.connect(envelope.metadata, options);
        c.wall.request = requested;
        c.wall.requestAnswered = answered;
      }
      return { status: res.status, body: envelope, requested, answered };
    },
    log,
  };
  window.streamstack = api;
})();
