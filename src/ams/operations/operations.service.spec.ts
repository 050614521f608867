import { Logger } from '@nestjs/common';
import type { Repository } from 'typeorm';
import type { AmsEventsService } from '../events/ams-events.service';
import type { Operation } from './operation.entity';
import { OPERATION_DRAIN_MS, OperationsService } from './operations.service';

/** The statuses written per operation, and a database that can be closed under it. */
function fakes() {
  const written: Array<[string, string]> = [];
  let open = true;
  const repo = {
    update: jest.fn(async (where: { id: string }, change: { status: string }) => {
      if (!open) throw new TypeError('The database connection is not open');
      written.push([where.id, change.status]);
    }),
  } as unknown as Repository<Operation>;
  const events = { publish: jest.fn() } as unknown as AmsEventsService;
  return { service: new OperationsService(repo, events), written, close: () => (open = false) };
}

describe('OperationsService at shutdown', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('waits for a running operation to write its outcome before the database closes', async () => {
    const { service, written } = fakes();
    service.run('op1', () => new Promise((r) => setTimeout(r, 50)));
    await service.beforeApplicationShutdown();
    expect(written).toEqual([
      ['op1', 'running'],
      ['op1', 'success'],
    ]);
  });

  it('stops waiting after OPERATION_DRAIN_MS and leaves what still runs to the next start, without an error', async () => {
    jest.useFakeTimers();
    try {
      const { service, written, close } = fakes();
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const log = jest.mocked(Logger.prototype.log);
      let finish!: () => void;
      service.run('stuck', () => new Promise<void>((r) => (finish = r)));
      const drained = service.beforeApplicationShutdown();
      await jest.advanceTimersByTimeAsync(OPERATION_DRAIN_MS - 1);
      let done = false;
      void drained.then(() => (done = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await drained;
      // The database closes; the operation ends later and cannot write its outcome.
      close();
      finish();
      await jest.advanceTimersByTimeAsync(0);
      expect(written).toEqual([['stuck', 'running']]);
      expect(error).not.toHaveBeenCalled();
      expect(log).toHaveBeenCalledWith(expect.stringContaining('operation stuck was left unfinished by the shutdown'));
    } finally {
      jest.useRealTimers();
    }
  });

  it('returns without waiting when nothing runs, also once an operation has ended', async () => {
    jest.useFakeTimers();
    try {
      const { service } = fakes();
      service.run('quick', async () => undefined);
      await jest.advanceTimersByTimeAsync(0); // it ends and writes its outcome
      let done = false;
      void service.beforeApplicationShutdown().then(() => (done = true));
      await Promise.resolve(); // no timer advanced: a microtask is all it may take
      await Promise.resolve();
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
