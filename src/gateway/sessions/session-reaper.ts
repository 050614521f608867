import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SessionsService } from './sessions.service';

export const REAP_EVERY_MS = 2000;

/** Runs the session lifecycle rules on a timer; the rules themselves are SessionsService.reap. */
@Injectable()
export class SessionReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('sessions');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly sessions: SessionsService) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), REAP_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return; // a slow sweep is never overlapped by the next
    this.running = true;
    try {
      const ended = await this.sessions.reap();
      if (ended.length) this.logger.log(`reaped ${ended.length} session(s)`);
    } catch (e) {
      this.logger.warn(`reaping failed: ${String(e)}`);
    } finally {
      this.running = false;
    }
  }
}
