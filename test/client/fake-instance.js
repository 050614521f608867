/*
 * A stand-in for an instance's streamer, running in a browser page: it answers the client's
 * signalling (PROTOCOL.md §4) from the instance's side and streams a canvas that carries the
 * timestamp strip of §9 (H.264) plus a tone (Opus). It exists to check the test client's logic
 * (test/client/client.js) without the real streamer: same protocol, a different peer.
 *
 *   streamstack.fakeInstance({ url, width, height, fps, msid, candidatesFirst, ignoreClientCandidates })
 *
 * - `msid: false` offers tracks that belong to no MediaStream (no `a=msid`), which the SDK and
 *   the test client must refuse loudly;
 * - `candidatesFirst: true` gathers every candidate and sends them all BEFORE the offer, so the
 *   client has to queue them until its remote description is set;
 * - `ignoreClientCandidates: true` never adds the client's candidates, so ICE can only succeed
 *   if the client added ours (it then reaches us as a peer-reflexive candidate).
 */
(function () {
  'use strict';

  const wallNow = () => performance.timeOrigin + performance.now();

  function fakeInstance(opts) {
    const o = { width: 1280, height: 720, fps: 30, msid: true, candidatesFirst: false, ignoreClientCandidates: false, ...opts };
    const state = {
      received: [],
      sent: [],
      errors: [],
      controlMessages: [],
      channels: [],
      iceConnectionState: 'new',
      connectedAt: null,
      frames: 0,
      lastInput: null,
    };

    // The "application": a canvas with moving content, the last input, and the strip on top.
    const canvas = document.createElement('canvas');
    canvas.width = o.width;
    canvas.height = o.height;
    document.body.appendChild(canvas);
    const ctx = canvas.getContext('2d');
    const draw = () => {
      const t = Date.now();
      ctx.fillStyle = '#203040';
      ctx.fillRect(0, 0, o.width, o.height);
      ctx.fillStyle = '#e0c020';
      ctx.fillRect(((t / 5) % (o.width - 100)) | 0, 200, 100, 100);
      ctx.fillStyle = '#ffffff';
      ctx.font = '32px monospace';
      ctx.fillText(`INPUT ${state.lastInput || '(none yet)'}`, 16, 80);
      // Stamped last, as the real frame source does.
      streamstack.drawStrip(ctx, Date.now());
      state.frames++;
    };
    draw();
    const timer = setInterval(draw, 1000 / o.fps);
    const videoStream = canvas.captureStream(o.fps);
    // Full resolution from the first frame (the real encoder never scales either).
    videoStream.getVideoTracks()[0].contentHint = 'detail';

    const audioCtx = new AudioContext();
    const osc = audioCtx.createOscillator();
    osc.frequency.value = 440;
    const dest = audioCtx.createMediaStreamDestination();
    osc.connect(dest);
    osc.start();

    const pc = new RTCPeerConnection({ iceServers: [] });
    state.pc = pc;
    const stream = new MediaStream([videoStream.getVideoTracks()[0], dest.stream.getAudioTracks()[0]]);
    let videoTransceiver;
    if (o.msid) {
      videoTransceiver = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
      pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
    } else {
      videoTransceiver = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly' });
      pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly' });
    }
    const h264 = RTCRtpSender.getCapabilities('video').codecs.filter((c) => /H264/i.test(c.mimeType) && /packetization-mode=1/.test(c.sdpFmtpLine || ''));
    if (h264.length) videoTransceiver.setCodecPreferences(h264);
    // An application m-line, so that the client's own channels can open.
    pc.createDataChannel('instance-side', { negotiated: true, id: 1000 });
    pc.ondatachannel = (ev) => {
      const ch = ev.channel;
      state.channels.push({ label: ch.label, at: wallNow() });
      ch.onmessage = (m) => {
        state.controlMessages.push({ label: ch.label, data: typeof m.data === 'string' ? m.data : `<${m.data.byteLength} bytes>` });
        if (ch.label === 'control') {
          try {
            const msg = JSON.parse(m.data);
            state.lastInput = `${msg.type} ${JSON.stringify(msg.data)}`;
          } catch (e) {
            state.errors.push(`control: ${e.message}`);
          }
        }
      };
    };
    pc.oniceconnectionstatechange = () => {
      state.iceConnectionState = pc.iceConnectionState;
      if ((pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') && !state.connectedAt) state.connectedAt = wallNow();
    };

    const ws = new WebSocket(o.url);
    const send = (msg) => {
      state.sent.push(msg);
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
    };
    const candidateMessage = (c) => ({ type: 'candidate', candidate: btoa(c.candidate), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
    let remoteSet = false;
    const pending = [];

    ws.onmessage = async (ev) => {
      const msg = JSON.parse(ev.data);
      state.received.push(msg);
      try {
        if (msg.type === 'discover') {
          send({ type: 'resp:discover', max_api_version: 2, fps: o.fps, capabilities: [] });
        } else if (msg.type === 'settings') {
          const offer = await pc.createOffer();
          if (o.candidatesFirst) {
            const gathered = [];
            await new Promise((resolve) => {
              pc.onicecandidate = (e) => (e.candidate && e.candidate.candidate ? gathered.push(e.candidate) : resolve());
              pc.setLocalDescription(offer);
            });
            for (const c of gathered) send(candidateMessage(c));
            send({ type: 'offer', sdp: btoa(offer.sdp) }); // the offer as created: no candidates in it
          } else {
            pc.onicecandidate = (e) => e.candidate && e.candidate.candidate && send(candidateMessage(e.candidate));
            await pc.setLocalDescription(offer);
            send({ type: 'offer', sdp: btoa(pc.localDescription.sdp) });
          }
        } else if (msg.type === 'answer') {
          await pc.setRemoteDescription({ type: 'answer', sdp: atob(msg.sdp) });
          remoteSet = true;
          for (const c of pending.splice(0)) await pc.addIceCandidate(c);
        } else if (msg.type === 'candidate') {
          if (o.ignoreClientCandidates) return;
          const c = { candidate: atob(msg.candidate), sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex };
          if (remoteSet) await pc.addIceCandidate(c);
          else pending.push(c);
        }
      } catch (e) {
        state.errors.push(`${msg.type}: ${e.message}`);
      }
    };

    state.stop = () => {
      clearInterval(timer);
      pc.close();
      osc.stop();
      audioCtx.close();
      if (ws.readyState <= WebSocket.OPEN) ws.close();
    };
    state.snapshot = () => ({
      received: state.received,
      sent: state.sent,
      errors: state.errors,
      controlMessages: state.controlMessages,
      channels: state.channels,
      iceConnectionState: state.iceConnectionState,
      connectedAt: state.connectedAt,
      frames: state.frames,
      lastInput: state.lastInput,
    });
    return state;
  }

  window.streamstack = window.streamstack || {};
  window.streamstack.fakeInstance = (opts) => {
    window.streamstack.instance = fakeInstance(opts);
    return true;
  };
})();
