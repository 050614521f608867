import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DomainError, notFound } from '@streamstack/contracts';
import { newId, nowIso } from '@streamstack/persistence';
import { EventEmitter } from 'node:events';
import { In, Repository } from 'typeorm';
import { settlesWithin } from '../../common/poll';
import { AmsEventsService } from '../events/ams-events.service';
import { Operation, OperationStatus } from './operation.entity';

export interface OperationView {
  id: string;
  description: string;
  status: OperationStatus;
  resources: Record<string, string[]>;
  err: string;
  created_at: string;
  updated_at: string;
}

export const toView = (o: Operation): OperationView => ({
  id: o.id,
  description: o.description,
  status: o.status,
  resources: o.resources,
  err: o.err,
  created_at: o.createdAt,
  updated_at: o.updatedAt,
});

const ended = (s: OperationStatus) => s === 'success' || s === 'failure';

/** How long a shutdown waits for running operations to record their outcome. */
export const OPERATION_DRAIN_MS = 5000;

/** Long work behind 202 answers: persisted, observable and awaitable. */
@Injectable()
export class OperationsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('operations');
  /** Emits `<id>` when an operation ends, so waiters need not poll. */
  private readonly endings = new EventEmitter().setMaxListeners(0);
  /** Operations running in this process, until their outcome is written. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Set once the shutdown stopped waiting: the database may be gone. */
  private closing = false;

  constructor(
    @InjectRepository(Operation) private readonly operations: Repository<Operation>,
    private readonly events: AmsEventsService,
  ) {}

  async create(description: string, resources: Record<string, string[]>): Promise<OperationView> {
    const now = nowIso();
    const op = await this.operations.save(
      this.operations.create({ id: newId(), description, status: 'pending', resources, err: '', createdAt: now, updatedAt: now }),
    );
    this.events.publish('operation', { action: 'operation-created', id: op.id, status: op.status });
    return toView(op);
  }

  /** Runs `work` in the background, recording its outcome on the operation. */
  run(id: string, work: () => Promise<void>): void {
    const running = (async () => {
      // The work does not wait for this write (a launch's node start is on a viewer's path); the
      // outcome is written after it (with several connections it could otherwise land first).
      const started = this.setStatus(id, 'running');
      let failure: string | null = null;
      try {
        await work();
      } catch (e) {
        failure = DomainError.from(e).message;
        this.logger.warn(`operation ${id} failed: ${failure}`);
      }
      await started;
      await (failure === null ? this.setStatus(id, 'success') : this.setStatus(id, 'failure', failure));
    })().catch((e: unknown) => {
      // Still `running` in the database: the next start resumes or fails it (InstancesService).
      if (this.closing) this.logger.log(`operation ${id} was left unfinished by the shutdown: the next start takes it up`);
      else this.logger.error(`operation ${id}: ${String(e)}`);
    });
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running));
  }

  /**
   * Lets running operations write their outcome before the database closes (it closes at
   * application shutdown, after this); what is still running after OPERATION_DRAIN_MS is
   * left for the next start.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.inFlight.size > 0) {
      this.logger.log(`waiting up to ${OPERATION_DRAIN_MS} ms for ${this.inFlight.size} running operation(s)`);
      await settlesWithin(Promise.allSettled([...this.inFlight]), OPERATION_DRAIN_MS);
    }
    this.closing = true;
  }

  /** Operations that had not ended when the previous AMS process stopped. */
  async unfinished(): Promise<OperationView[]> {
    return (await this.operations.find({ where: { status: In(['pending', 'running']) }, order: { createdAt: 'ASC' } })).map(toView);
  }

  async get(id: string): Promise<OperationView> {
    const op = await this.operations.findOneBy({ id });
    if (!op) throw notFound('operation', id);
    return toView(op);
  }

  async list(): Promise<OperationView[]> {
    return (await this.operations.find({ order: { createdAt: 'DESC' } })).map(toView);
  }

  /** Resolves when the operation has ended or `timeoutSeconds` passed, with its state then. */
  async wait(id: string, timeoutSeconds: number): Promise<OperationView> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    // Listen before reading, so that an ending in between is not missed.
    this.endings.once(id, wake);
    const timer = setTimeout(wake, timeoutSeconds * 1000);
    try {
      const current = await this.get(id);
      if (!ended(current.status) && timeoutSeconds > 0) await woken;
    } finally {
      clearTimeout(timer);
      this.endings.off(id, wake);
    }
    return this.get(id);
  }

  private async setStatus(id: string, status: OperationStatus, err = ''): Promise<void> {
    await this.operations.update({ id }, { status, err, updatedAt: nowIso() });
    this.events.publish('operation', { action: `operation-${status}`, id, status, err });
    if (ended(status)) this.endings.emit(id);
  }
}
