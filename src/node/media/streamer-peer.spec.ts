import { extmapId, PLAYOUT_DELAY_URI } from './streamer-peer';

describe('extmapId (the answer decides which header extensions we send)', () => {
  const section = (...lines: string[]) => ['video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', ...lines, 'a=rtpmap:96 H264/90000', ''].join('\r\n');

  it('gives the id the answer maps the URI to', () => {
    expect(extmapId(section(`a=extmap:5 ${PLAYOUT_DELAY_URI}`), PLAYOUT_DELAY_URI)).toBe(5);
    expect(extmapId(section('a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid', `a=extmap:9 ${PLAYOUT_DELAY_URI}`), PLAYOUT_DELAY_URI)).toBe(9);
    // The answerer only receiving it is what we need.
    expect(extmapId(section(`a=extmap:5/recvonly ${PLAYOUT_DELAY_URI}`), PLAYOUT_DELAY_URI)).toBe(5);
  });

  it('is null when absent, not for us to send, or beyond the one-byte form', () => {
    expect(extmapId(section(), PLAYOUT_DELAY_URI)).toBeNull();
    expect(extmapId(section(`a=extmap:5 ${PLAYOUT_DELAY_URI}x`), PLAYOUT_DELAY_URI)).toBeNull();
    expect(extmapId(section(`a=extmap:5/sendonly ${PLAYOUT_DELAY_URI}`), PLAYOUT_DELAY_URI)).toBeNull();
    expect(extmapId(section(`a=extmap:5/inactive ${PLAYOUT_DELAY_URI}`), PLAYOUT_DELAY_URI)).toBeNull();
    expect(extmapId(section(`a=extmap:15 ${PLAYOUT_DELAY_URI}`), PLAYOUT_DELAY_URI)).toBeNull();
    expect(extmapId(section(`a=extmap:200 ${PLAYOUT_DELAY_URI}`), PLAYOUT_DELAY_URI)).toBeNull();
  });
});
