import fc from 'fast-check';
import { FUZZ_SEED, fuzzParams, hostileBody, hostileValue } from '../../../test/support/hostile';
import {
  encodeBase64,
  parseFrame,
  SignallingError,
  SignallingOrder,
  validateClientMessage,
  validateInstanceMessage,
  type ClientMessage,
  type InstanceMessage,
} from './signalling';

/*
 * Property tests of the signalling protocol: every frame a socket can carry is either a
 * normalised message or a SignallingError (which the gateway turns into an `error` message),
 * never another exception; what passes is stable under a second pass.
 */

const SDP = encodeBase64('v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n');
const CANDIDATE = encodeBase64('candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host');

const CLIENT_MESSAGES = [
  { type: 'discover' },
  { type: 'settings', api_version: 2, data_channels: ['game'], enable_speaker: true, enable_microphone: false, video: { preferred_decoder_codecs: ['h264'] } },
  { type: 'answer', sdp: SDP },
  { type: 'candidate', candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: 0 },
  { type: 'error', message: 'gave up' },
];
const INSTANCE_MESSAGES = [
  { type: 'resp:discover', max_api_version: 2, fps: 30, capabilities: ['h264'] },
  { type: 'offer', sdp: SDP },
  { type: 'candidate', candidate: CANDIDATE, sdpMid: null, sdpMLineIndex: null },
  { type: 'error', message: 'x' },
];

/** Runs `fn`; a SignallingError is the one allowed refusal. */
function acceptOrRefuse<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof SignallingError) || !error.message) throw error;
    return undefined;
  }
}

const clientMessage = fc.oneof(...CLIENT_MESSAGES.map((m) => hostileBody(m)));
const instanceMessage = fc.oneof(...INSTANCE_MESSAGES.map((m) => hostileBody(m)));

describe(`signalling properties (seed ${FUZZ_SEED})`, () => {
  it('parseFrame: an object with a string type, or a SignallingError, for any text', () => {
    const frame = fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 }), hostileValue.map((v) => JSON.stringify(v) ?? ''), fc.constant('x'.repeat(70_000)));
    fc.assert(
      fc.property(frame, (text) => {
        const msg = acceptOrRefuse(() => parseFrame(text));
        if (msg) expect(typeof msg.type).toBe('string');
      }),
      fuzzParams(2000),
    );
  });

  it.each([
    ['client', clientMessage, validateClientMessage],
    ['instance', instanceMessage, validateInstanceMessage],
  ] as const)('a %s message is normalised or refused, and normalising twice changes nothing', (_side, arbitrary, validate) => {
    fc.assert(
      fc.property(arbitrary, (value) => {
        // What the gateway has after parseFrame: parsed JSON, an object (parseFrame refuses the rest).
        const raw = JSON.parse(JSON.stringify(value ?? null)) as unknown;
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || typeof (raw as { type?: unknown }).type !== 'string') return;
        const msg = acceptOrRefuse(() => validate(raw as Record<string, unknown>));
        if (!msg) return;
        const again = validate(JSON.parse(JSON.stringify(msg)) as Record<string, unknown>);
        expect(again).toEqual(msg);
      }),
      fuzzParams(2000),
    );
  });

  it('SignallingOrder: any interleaving of valid messages is relayed or refused in order, never a crash', () => {
    const step = fc.oneof(
      fc.constantFrom(...CLIENT_MESSAGES).map((m) => ({ from: 'client' as const, msg: validateClientMessage(m) })),
      fc.constantFrom(...INSTANCE_MESSAGES).map((m) => ({ from: 'instance' as const, msg: validateInstanceMessage(m) })),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        const order = new SignallingOrder();
        let offered = false;
        let answered = false;
        for (const { from, msg } of steps) {
          const ok =
            from === 'client'
              ? acceptOrRefuse(() => (order.checkFromClient(msg as ClientMessage), order.noteFromClient(msg as ClientMessage), true))
              : acceptOrRefuse(() => (order.checkFromInstance(msg as InstanceMessage), order.noteFromInstance(msg as InstanceMessage), true));
          // The invariants the relay promises: no answer before an offer, one answer at most.
          if (ok && from === 'client' && msg.type === 'answer') {
            expect(offered).toBe(true);
            expect(answered).toBe(false);
            answered = true;
          }
          if (ok && from === 'instance' && msg.type === 'offer') offered = true;
        }
      }),
      fuzzParams(2000),
    );
  });
});
