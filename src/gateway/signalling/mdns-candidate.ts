import { isIP } from 'node:net';
import type { ClientMessage } from '@streamstack/protocol';
import { decodeBase64, encodeBase64 } from '@streamstack/protocol';

type Candidate = Extract<ClientMessage, { type: 'candidate' }>;

/** The address a socket's peer connected from, without the IPv4-mapped prefix; null if none. */
export function peerAddress(remoteAddress: string | undefined): string | null {
  const address = remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '') ?? '';
  return isIP(address) ? address : null;
}

/**
 * A browser names its host candidates with mDNS (`<uuid>.local`), which the instance cannot
 * resolve: it learns the client's address only from the client's first connectivity check, and
 * libjuice sends its own check 50 ms behind that one (later still while the browser retransmits),
 * which holds up the DTLS handshake we start. On one host or one LAN, a host candidate is at the
 * address the client's signalling socket came from: this returns the same candidate at that
 * address, for the relay to send beside the original. A wrong guess costs one failed check;
 * null when the candidate is not an mDNS host candidate.
 */
export function candidateAtAddress(message: Candidate, address: string): Candidate | null {
  const line = decodeBase64(message.candidate, 'candidate').trim();
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
  const fields = line.split(' ');
  if (fields.length < 8 || fields[6] !== 'typ' || fields[7] !== 'host' || !/^[\w-]+\.local$/i.test(fields[4])) return null;
  fields[4] = address;
  return { ...message, candidate: encodeBase64(fields.join(' ')) };
}
