import { DataSource } from 'typeorm';
import { TransactionRunner } from './transaction-runner';

describe('TransactionRunner on SQLite', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize();
  });
  afterAll(() => ds.destroy());

  it('runs transactions one after another, each on a later turn of the event loop than the last', async () => {
    const runner = new TransactionRunner(ds);
    const order: string[] = [];
    const first = runner.run(async (m) => {
      order.push('first');
      // Input that arrives meanwhile (here an immediate) is handled before the next one starts.
      setImmediate(() => order.push('input'));
      await m.query('SELECT 1');
      order.push('first done');
    });
    const second = runner.run(async () => void order.push('second'));
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'first done', 'input', 'second']);
  });

  it('goes on after a transaction that failed', async () => {
    const runner = new TransactionRunner(ds);
    const failed = runner.run(async () => {
      throw new Error('no');
    });
    await expect(failed).rejects.toThrow('no');
    await expect(runner.run(async (m) => (await m.query('SELECT 2 AS two'))[0].two)).resolves.toBe(2);
  });
});
