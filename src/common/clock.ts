import { Injectable } from '@nestjs/common';

/** Wall-clock time, injectable so that expiry rules are tested with a fake clock, not sleeps. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}
