import { DomainError } from '@streamstack/contracts';
import type { RpcClient } from '@streamstack/transport';
import type { Clock } from '../clock';
import type { Caller } from './auth.decorators';
import { TOKEN_FRESH_MS, TOKEN_STALE_MS, TokenVerifier } from './token-verifier';

describe('TokenVerifier', () => {
  const alice: Caller = { id: 'a1', name: 'alice', role: 'client' };
  let now: number;
  let answer: () => Promise<Caller | null>;
  let asked: number;
  let tokens: TokenVerifier;

  beforeEach(() => {
    now = 1_000_000;
    asked = 0;
    answer = async () => alice;
    const rpc = { request: async () => (asked++, answer()) } as unknown as RpcClient;
    tokens = new TokenVerifier(rpc, { now: () => now } as Clock);
  });

  it('reads the local registry when the gateway runs in this process, never the bus', async () => {
    tokens.useLocal({ verify: async (hash) => (hash === 'h' ? alice : null) });
    expect(await tokens.verify('h')).toEqual(alice);
    expect(await tokens.verify('other')).toBeNull();
    expect(asked).toBe(0);
  });

  it('asks the gateway, then trusts the answer while it is fresh', async () => {
    expect(await tokens.verify('h')).toEqual(alice);
    now += TOKEN_FRESH_MS - 1;
    expect(await tokens.verify('h')).toEqual(alice);
    expect(asked).toBe(1);
    now += 1;
    expect(await tokens.verify('h')).toEqual(alice);
    expect(asked).toBe(2);
  });

  it('forgets a token the gateway no longer knows, and never remembers an unknown one', async () => {
    await tokens.verify('h');
    now += TOKEN_FRESH_MS;
    answer = async () => null;
    expect(await tokens.verify('h')).toBeNull();
    expect(await tokens.verify('h')).toBeNull();
    expect(asked).toBe(3);
  });

  it('keeps a known token working while the gateway does not answer, up to the stale limit', async () => {
    await tokens.verify('h');
    answer = async () => {
      throw new DomainError('no_responder', 'nobody serves gateway.account.verify');
    };
    now += TOKEN_STALE_MS - 1;
    expect(await tokens.verify('h')).toEqual(alice);
    now += 1;
    await expect(tokens.verify('h')).rejects.toMatchObject({ code: 'no_responder' });
    // A token it never vouched for cannot be checked at all.
    await expect(tokens.verify('never-seen')).rejects.toMatchObject({ code: 'no_responder' });
  });

  it('does not fall back on what it remembers when the gateway refuses (an error, not silence)', async () => {
    await tokens.verify('h');
    now += TOKEN_FRESH_MS;
    answer = async () => {
      throw new DomainError('internal', 'database is locked');
    };
    await expect(tokens.verify('h')).rejects.toMatchObject({ code: 'internal' });
  });

  it("forgets a revoked account's tokens at once", async () => {
    await tokens.verify('h');
    tokens.forgetAccount('a1');
    answer = async () => null;
    expect(await tokens.verify('h')).toBeNull();
    expect(asked).toBe(2);
  });
});
