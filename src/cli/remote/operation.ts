import type { InstanceView } from '@streamstack/contracts';
import { ApiClient, ApiError } from './api-client';
import { enc } from './remote-command';

/** AMS operation (PROTOCOL.md §6): what a 202 answer carries. */
export interface OperationView {
  id: string;
  description: string;
  status: 'pending' | 'running' | 'success' | 'failure';
  resources: Record<string, string[]>;
  err: string;
  created_at: string;
  updated_at: string;
}

/**
 * How long each `/wait` call may block on the server, and how often the instance is sampled
 * meanwhile. Sampling while waiting is what makes short-lived states (prepared, started)
 * visible; specs shorten `pollMs`.
 */
export const WAIT_SETTINGS = { waitSeconds: 5, pollMs: 500 };

export const operationEnded = (op: OperationView) => op.status === 'success' || op.status === 'failure';

/** `/ams/1.0/instances/<id>` in the operation's resources → `<id>`. */
export function instanceIdOf(op: OperationView): string | undefined {
  const path = op.resources?.instances?.[0];
  return path ? path.split('/').filter(Boolean).pop() : undefined;
}

export type StatusListener = (previous: string | undefined, next: string, message: string) => void;

/**
 * Waits until `op` ends, calling `onStatus` whenever the instance's status changes.
 * Returns the ended operation; network and API errors propagate.
 */
export async function followOperation(
  client: ApiClient,
  op: OperationView,
  instanceId: string | undefined,
  onStatus: StatusListener = () => undefined,
): Promise<OperationView> {
  let last: string | undefined;
  const sample = async () => {
    if (!instanceId) return;
    let status: string;
    let message = '';
    try {
      const inst = await client.request<InstanceView>('GET', `/ams/1.0/instances/${enc(instanceId)}`);
      status = inst.status;
      message = inst.status_message ?? '';
    } catch (e) {
      // Progress is best effort: the operation's own outcome is what counts.
      if (e instanceof ApiError && e.status === 404) status = 'deleted';
      else return;
    }
    if (status !== last) {
      onStatus(last, status, message);
      last = status;
    }
  };

  await sample();
  let current = op;
  while (!operationEnded(current)) {
    const started = Date.now();
    const waiting = client.send<OperationView>(
      'GET',
      `/ams/1.0/operations/${enc(op.id)}/wait?timeout=${WAIT_SETTINGS.waitSeconds}`,
      { timeoutMs: WAIT_SETTINGS.waitSeconds * 1000 + 30_000 },
    );
    let done = false;
    // Handled here so that a rejection while we sleep is not "unhandled"; it is re-thrown below.
    waiting.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      await raceSleep(waiting, WAIT_SETTINGS.pollMs);
      if (!done) await sample();
    }
    current = (await waiting).metadata;
    // A server that does not block must not turn this loop into a busy one.
    if (!operationEnded(current) && Date.now() - started < WAIT_SETTINGS.pollMs) await sleep(WAIT_SETTINGS.pollMs);
  }
  await sample();
  return current;
}

/** Resolves when `p` settles or `ms` pass, whichever is first; never rejects. */
function raceSleep(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const finish = () => {
      clearTimeout(timer);
      resolve();
    };
    p.then(finish, finish);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
