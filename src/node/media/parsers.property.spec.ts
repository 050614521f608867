import fc from 'fast-check';
import { FUZZ_SEED, fuzzParams, hostileBody, hostileValue } from '../../../test/support/hostile';
import { parseInbound, parseStreamerConfig } from '../media-link/streamer.messages';
import { CONTROL_MESSAGE_MAX_BYTES, parseControlMessage } from './control-input';
import { parseRtcp } from './rtcp';
import { parseRtcpFeedback } from './rtcp-feedback';
import { parseRtpHeader } from './rtp';

/*
 * Property tests of what the media process parses from outside: control-channel messages from
 * any client, RTCP and RTP datagrams from the network, and its parent's IPC messages. None of
 * them may throw in a node-datachannel callback (that aborts the process): each either
 * understands the input or says it is invalid.
 */

const INPUT_SAMPLES = [
  { type: 'input::mouse-move', data: { x: 10, y: 20, rx: 1, ry: -1 } },
  { type: 'input::mouse-button', data: { button: 1, pressed: true } },
  { type: 'input::mouse-wheel', data: { x: 0, y: -3 } },
  { type: 'input::key', data: { code: 30, pressed: false } },
  { type: 'input::touch-start', data: { id: 0, x: 5, y: 5 } },
  { type: 'input::touch-end', data: { id: 0 } },
  { type: 'input::gamepad-axes', data: { id: 0, index: 1, value: -0.5 } },
  { type: 'stream::disconnect', data: {} },
];

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  // An RTCP or RTP first byte (version 2) more often than chance gives one.
  fc.tuple(fc.constantFrom(0x80, 0x81, 0x8f, 0xa0, 0x90), fc.integer({ min: 192, max: 223 }), fc.uint8Array({ maxLength: 80 })).map(
    ([b0, pt, rest]) => Uint8Array.from([b0, pt, ...rest]),
  ),
);

describe(`media process parsers (seed ${FUZZ_SEED})`, () => {
  it('parseControlMessage: an input event within its bounds, a disconnect, or invalid with a reason; never a throw', () => {
    const message = fc.oneof(
      fc.oneof(...INPUT_SAMPLES.map((m) => hostileBody(m))).map((v) => JSON.stringify(v) ?? 'undefined'),
      fc.string({ maxLength: 100 }),
      fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
      fc.constant('{"type":"input::key","data":{"code":1,"pressed":true},"pad":"' + 'x'.repeat(CONTROL_MESSAGE_MAX_BYTES) + '"}'),
    );
    fc.assert(
      fc.property(message, (raw) => {
        const parsed = parseControlMessage(raw);
        if (parsed.kind === 'invalid') expect(parsed.reason).toBeTruthy();
        if (parsed.kind === 'input') {
          for (const v of Object.values(parsed.event.data)) {
            if (typeof v === 'number') expect(Number.isFinite(v) && Math.abs(v) <= 1_000_000).toBe(true);
            else expect(typeof v).toBe('boolean');
          }
        }
      }),
      fuzzParams(3000),
    );
  });

  it('RTCP and RTP parsers never throw on any datagram, and read only inside it', () => {
    fc.assert(
      fc.property(bytes, fc.nat(8), (datagram, offset) => {
        // Also as a view into a larger buffer, as node-datachannel hands them over.
        const inside = new Uint8Array(datagram.length + offset + 8);
        inside.set(datagram, offset);
        const view = inside.subarray(offset, offset + datagram.length);
        expect(parseRtcp(view)).toEqual(parseRtcp(datagram));
        expect(parseRtcpFeedback(view)).toEqual(parseRtcpFeedback(datagram));
        const rtp = parseRtpHeader(view);
        if (rtp) expect(rtp.payloadOffset <= rtp.payloadEnd && rtp.payloadEnd <= datagram.length).toBe(true);
      }),
      fuzzParams(3000),
    );
  });

  it('IPC from the parent: parseInbound gives null or a message; parseStreamerConfig a config or an Error naming the field', () => {
    const config = {
      fps: 30,
      width: 1280,
      height: 720,
      source: { kind: 'test-pattern', videoSocket: '/tmp/v.sock', audioSocket: '/tmp/a.sock' },
      video: { encoder: 'libx264', gop: 60, minKbps: 1000, maxKbps: 3000, startKbps: 2000 },
      audio: { bitrateKbps: 64, sampleRate: 48000, channels: 2 },
      iceServers: ['stun:127.0.0.1:3478'],
      portRange: [40000, 40100],
    };
    fc.assert(
      fc.property(hostileBody(config), (raw) => {
        try {
          parseStreamerConfig(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message).toMatch(/config/);
          expect(error).not.toBeInstanceOf(TypeError);
        }
      }),
      fuzzParams(1000),
    );
    const inbound = fc.oneof(
      hostileBody({ kind: 'signal', generation: 1, message: { type: 'discover' } }),
      hostileBody({ kind: 'data', channel: 'game', data: 'aGk=', text: false }),
      hostileBody({ kind: 'control', message: 'x' }),
      hostileValue,
    );
    fc.assert(
      fc.property(inbound, (msg) => {
        const parsed = parseInbound(msg);
        if (parsed !== null) expect(typeof parsed.kind).toBe('string');
      }),
      fuzzParams(2000),
    );
  });
});
