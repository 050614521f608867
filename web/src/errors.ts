import { StreamError } from '../../libs/client-sdk/src';

/** A failure as a person reads it: what happened, and the gateway's own words. */
export interface Problem {
  title: string;
  detail: string;
}

const TITLES: Record<string, string> = {
  unauthorised: 'That token was not accepted',
  forbidden: 'This account may not do that',
  'not-found': 'Not found',
  'rate-limited': 'Too many sessions started',
  'bad-request': 'The gateway refused the request',
  'gateway-unavailable': 'The gateway is not answering',
  'signalling-failed': 'Could not reach the application',
  'ice-failed': 'No network path to the stream',
  'connection-lost': 'The connection was lost',
  'session-ended': 'The session has ended',
};

export function problemOf(e: unknown): Problem {
  if (e instanceof StreamError) {
    const wait = e.code === 'rate-limited' && e.retryAfterSeconds !== undefined ? ` Try again in ${e.retryAfterSeconds} s.` : '';
    return { title: TITLES[e.code] ?? 'Something went wrong', detail: `${e.message}${wait}` };
  }
  return { title: 'Something went wrong', detail: e instanceof Error ? e.message : String(e) };
}
