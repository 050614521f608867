import { hashToken, tokenFromSubprotocols, redactUrl, tokenFromRequest } from './credentials';

describe('credentials', () => {
  it.each([
    ['Macaroon root=abc', 'abc'],
    ['macaroon root=abc', 'abc'],
    ['MACAROON root=abc', 'abc'],
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
  ])('reads %s', (header, token) => expect(tokenFromRequest(header, {})).toBe(token));

  it('reads api_token when there is no Authorization header', () => {
    expect(tokenFromRequest(undefined, { api_token: 'xyz' })).toBe('xyz');
  });

  it('does not fall back to the query when the header is malformed', () => {
    expect(tokenFromRequest('Basic Zm9v', { api_token: 'xyz' })).toBeUndefined();
    expect(tokenFromRequest(undefined, { api_token: ['a', 'b'] })).toBeUndefined();
  });

  it('hashes with SHA-256', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('redacts credentials in URLs', () => {
    expect(redactUrl('/1.0/sessions?limit=1&api_token=secret&x=1')).toBe('/1.0/sessions?limit=1&api_token=[redacted]&x=1');
    expect(redactUrl('/x?API_TOKEN=s')).toBe('/x?API_TOKEN=[redacted]');
  });

  it('reads a browser WebSocket token from its bearer.<token> subprotocol', () => {
    expect(tokenFromSubprotocols('streamstack.events, bearer.abc_DEF-123')).toBe('abc_DEF-123');
    expect(tokenFromSubprotocols('bearer.t,streamstack.events')).toBe('t');
    expect(tokenFromSubprotocols('streamstack.events')).toBeUndefined();
    expect(tokenFromSubprotocols('streamstack.events, bearer.')).toBeUndefined();
    expect(tokenFromSubprotocols(undefined)).toBeUndefined();
  });
});
