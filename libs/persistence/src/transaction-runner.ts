import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, FindOneOptions } from 'typeorm';

/**
 * Runs a unit of work in a transaction. TypeORM on SQLite has a single connection, so two
 * transactions at once would nest into each other: they are queued one after the other there.
 * PostgreSQL has a pool and runs them concurrently; rows read to be changed must then be read
 * with `forUpdate`, or two transactions can both read the old row and one update is lost.
 */
@Injectable()
export class TransactionRunner {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly serialise: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.serialise = dataSource.options.type === 'better-sqlite3' || dataSource.options.type === 'sqlite';
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialise) return this.dataSource.transaction(work);
    // better-sqlite3 is synchronous: transactions queued back to back would run as one chain of
    // microtasks, holding back socket and IPC input (a viewer's signalling) until the last one.
    // Each waits for the event loop's next turn instead.
    const next = this.tail.then(() => new Promise((turn) => setImmediate(turn))).then(() => this.dataSource.transaction(work));
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * Find options that lock the rows read until the transaction ends (`SELECT … FOR UPDATE`) on
 * PostgreSQL. SQLite cannot lock rows and needs not: its transactions run one at a time.
 */
export function forUpdate(manager: EntityManager): Pick<FindOneOptions, 'lock'> {
  return manager.connection.options.type === 'postgres' ? { lock: { mode: 'pessimistic_write' } } : {};
}
