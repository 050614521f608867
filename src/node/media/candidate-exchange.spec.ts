import { CANDIDATE_HOLD_MS, CandidateExchange, withholdCandidates, type Candidate } from './candidate-exchange';

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

describe('CandidateExchange (when each side\'s candidates may go)', () => {
  const OFFER = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=candidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host', 'a=end-of-candidates', ''].join('\r\n');
  const ANSWER = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', ''].join('\r\n');
  const ours = (n: number): Candidate => ({ candidate: `candidate:${n} 1 UDP 2122317823 127.0.0.1 ${49999 + n} typ host`, mid: '0' });
  const theirs = (n: number): Candidate => ({ candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 ${40000 + n} typ host`, mid: '0' });

  let sent: Candidate[];
  let applied: Candidate[];
  let logs: string[];
  let x: CandidateExchange;
  beforeEach(() => {
    jest.useFakeTimers();
    sent = [];
    applied = [];
    logs = [];
    x = new CandidateExchange({ send: (c) => sent.push(c), apply: (c) => applied.push(c), log: (level, m) => logs.push(`${level} ${m}`), ms: () => 7 });
  });
  afterEach(() => jest.useRealTimers());

  it("sends ours with the answer when the client's came before it, each once (the offer's and the agent's)", () => {
    x.withholdFrom(OFFER);
    x.local(ours(1)); // also in the offer
    x.local(ours(2));
    x.remote(theirs(1));
    expect(sent).toEqual([]);
    expect(applied).toEqual([]);
    expect(x.answerSet).toBe(false);
    expect(x.onAnswer(ANSWER)).toBe(1);
    expect(x.answerSet).toBe(true);
    expect(applied).toEqual([theirs(1)]);
    expect(sent).toEqual([ours(1), ours(2)]);
    expect(logs).toEqual(['info our candidates sent with the answer (7 ms after settings)']);
    x.local(ours(3)); // found later: goes at once
    expect(sent).toEqual([ours(1), ours(2), ours(3)]);
  });

  it('sends ours with an answer that carries the client\'s candidates', () => {
    x.withholdFrom(OFFER);
    x.onAnswer(ANSWER + 'a=candidate:9 1 udp 1 127.0.0.1 9 typ host\r\n');
    expect(sent).toEqual([ours(1)]);
  });

  it("holds ours after the answer until the client's first candidate is applied", () => {
    x.withholdFrom(OFFER);
    expect(x.onAnswer(ANSWER)).toBe(0);
    jest.advanceTimersByTime(CANDIDATE_HOLD_MS - 1);
    expect(sent).toEqual([]);
    x.remote(theirs(1));
    expect(applied).toEqual([theirs(1)]);
    expect(sent).toEqual([ours(1)]);
    expect(logs).toEqual(["info our candidates sent after the client's first (7 ms after settings)"]);
    x.remote(theirs(2));
    jest.advanceTimersByTime(CANDIDATE_HOLD_MS);
    expect(sent).toEqual([ours(1)]); // released once
    expect(logs).toHaveLength(1);
  });

  it(`sends ours ${CANDIDATE_HOLD_MS} ms after an answer when the client sends none`, () => {
    x.withholdFrom(OFFER);
    x.onAnswer(ANSWER);
    jest.advanceTimersByTime(CANDIDATE_HOLD_MS - 1);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([ours(1)]);
    expect(logs).toEqual([`info our candidates sent no candidate of the client's within ${CANDIDATE_HOLD_MS} ms (7 ms after settings)`]);
  });

  it('sends and applies nothing once closed, the hold included', () => {
    x.withholdFrom(OFFER);
    x.onAnswer(ANSWER);
    x.close();
    jest.advanceTimersByTime(CANDIDATE_HOLD_MS);
    x.remote(theirs(1));
    x.local(ours(2));
    expect(sent).toEqual([]);
    expect(applied).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('keeps at most 100 of the client\'s candidates before the answer, warning for each dropped', () => {
    for (let n = 0; n < 102; n++) x.remote(theirs(n));
    expect(logs).toEqual(['warn too many candidates before the answer; dropping one', 'warn too many candidates before the answer; dropping one']);
    expect(x.onAnswer(ANSWER)).toBe(100);
    expect(applied).toHaveLength(100);
  });
});
