import { errorFromStatus } from './errors';

describe('gateway errors as typed SDK errors', () => {
  it.each([
    [401, 'unauthorised'],
    [403, 'forbidden'],
    [404, 'not-found'],
    [400, 'bad-request'],
    [409, 'bad-request'],
    [500, 'gateway-unavailable'],
    [503, 'gateway-unavailable'],
  ])('%i is %s', (status, code) => {
    expect(errorFromStatus(status, 'why')).toMatchObject({ name: 'StreamError', code, status, message: 'why' });
  });

  it('says when to retry after a 429, from Retry-After', () => {
    expect(errorFromStatus(429, 'slow down', '17')).toMatchObject({ code: 'rate-limited', retryAfterSeconds: 17 });
    expect(errorFromStatus(429, 'slow down', 'soon').retryAfterSeconds).toBeUndefined();
    // A page on another origin cannot read the header unless the gateway exposes it: unknown, not 0.
    expect(errorFromStatus(429, 'slow down', null).retryAfterSeconds).toBeUndefined();
  });
});
