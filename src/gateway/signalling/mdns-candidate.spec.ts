import { decodeBase64, encodeBase64 } from '@streamstack/protocol';
import { candidateAtAddress, peerAddress } from './mdns-candidate';

const candidate = (line: string) => ({ type: 'candidate' as const, candidate: encodeBase64(line), sdpMid: '0', sdpMLineIndex: 0 });
const lineOf = (c: { candidate: string } | null) => (c ? decodeBase64(c.candidate, 'candidate') : null);

describe('candidateAtAddress', () => {
  it("puts a browser's mDNS host candidate at the given address, keeping everything else", () => {
    const mdns = candidate('candidate:2837 1 udp 2122260223 0d1f9a4e-5c7b-4f3a-9d2e-7b6c5a4f3e2d.local 54321 typ host generation 0 ufrag AbCd network-id 1');
    const guess = candidateAtAddress(mdns, '127.0.0.1');
    expect(lineOf(guess)).toBe('candidate:2837 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 ufrag AbCd network-id 1');
    expect(guess).toMatchObject({ type: 'candidate', sdpMid: '0', sdpMLineIndex: 0 });
    // With the SDP attribute's prefix, and over TCP, too.
    expect(lineOf(candidateAtAddress(candidate('a=candidate:1 1 TCP 1518280447 a-b.local 9 typ host tcptype active'), '::1'))).toBe('a=candidate:1 1 TCP 1518280447 ::1 9 typ host tcptype active');
  });

  it('leaves alone candidates that are not mDNS host candidates', () => {
    for (const line of [
      'candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host',
      'candidate:2 1 udp 1686052607 198.51.100.7 40000 typ srflx raddr x.local rport 54321',
      'candidate:3 1 udp 41885439 127.0.0.1 50000 typ relay raddr 0.0.0.0 rport 0',
      'candidate:4 1 udp 2122260223 printer.example.com 54321 typ host',
      'candidate:5 1 udp 2122260223 x.local',
      '',
    ]) {
      expect(candidateAtAddress(candidate(line), '127.0.0.1')).toBeNull();
    }
  });
});

describe('peerAddress', () => {
  it('gives the IP a socket came from, an IPv4-mapped one as IPv4', () => {
    expect(peerAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(peerAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(peerAddress('::1')).toBe('::1');
    expect(peerAddress(undefined)).toBeNull();
    expect(peerAddress('')).toBeNull();
  });
});
