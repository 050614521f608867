import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';

export type AmsEventType = 'lifecycle' | 'operation';

/** What `/ams/1.0/events` subscribers receive (PROTOCOL.md §6). */
export interface AmsEvent {
  type: AmsEventType;
  timestamp: string;
  metadata: { action: string; id: string; [key: string]: unknown };
}

/** The AMS event stream, in memory: the AMS process owns it and the events socket reads it. */
@Injectable()
export class AmsEventsService {
  private readonly events = new Subject<AmsEvent>();

  publish(type: AmsEventType, metadata: AmsEvent['metadata']): void {
    this.events.next({ type, timestamp: new Date().toISOString(), metadata });
  }

  get stream(): Observable<AmsEvent> {
    return this.events.asObservable();
  }
}
