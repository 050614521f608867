import { extmapId, PLAYOUT_DELAY_URI, withholdCandidates } from './streamer-peer';

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

describe('withholdCandidates (the client must not reach us before the answer is stored)', () => {
  it('takes every candidate and end-of-candidates out of the offer, each with its mid', () => {
    const sdp = [
      'v=0',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=mid:0',
      'a=candidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'a=mid:2',
      'a=candidate:2 1 UDP 2122317823 10.0.0.1 50001 typ host',
      'a=end-of-candidates',
      '',
    ].join('\r\n');
    const withheld: Array<{ candidate: string; mid: string }> = [];
    const offer = withholdCandidates(sdp, withheld);
    expect(offer).not.toMatch(/candidate/);
    expect(offer).toContain('a=mid:2\r\n');
    expect(withheld).toEqual([
      { candidate: 'candidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host', mid: '0' },
      { candidate: 'candidate:2 1 UDP 2122317823 10.0.0.1 50001 typ host', mid: '2' },
    ]);
  });
});
