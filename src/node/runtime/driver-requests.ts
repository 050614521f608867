import { Limits } from '@streamstack/contracts';
import { clipboardPieces } from '@streamstack/protocol';
import type { StreamerProcess } from '../media-link/streamer-process';
import type { StartedSource } from '../sources/source-context';
import { gamepadProblem } from '../sources/virtual-gamepad';

/** At most this many resizes a second reach the display; the last one asked for always does. */
export const RESIZE_MIN_INTERVAL_MS = 250;

type Log = (level: 'debug' | 'info' | 'warn', message: string) => void;

/**
 * What the driving client asks of the instance beside input (PROTOCOL.md §5): its display's
 * size (`screen::resize`: checked against the screen limits, made even for the encoder, and
 * coalesced, so a burst ends at the last size asked for), the clipboard both ways
 * (`clipboard::set`, and `clipboard::changed` in pieces the SDK joins) and the one
 * `gamepad::unsupported` a display without a gamepad owes each client.
 */
export class DriverRequests {
  private resizing = false;
  private wanted: { width: number; height: number } | null = null;
  private lastResizeAt = -Infinity;
  private gamepadTold = false;

  constructor(
    private readonly streamer: StreamerProcess,
    private readonly source: StartedSource,
    private readonly log: Log,
  ) {
    source.desktop?.onClipboard((text) => this.clipboardChanged(text));
  }

  /** A new client drives: it has not heard about gamepads yet. */
  newDriver(): void {
    this.gamepadTold = false;
  }

  resize(width: number, height: number): void {
    const { maxWidth, maxHeight } = Limits.screen;
    if (width > maxWidth || height > maxHeight) {
      this.log('warn', `screen::resize to ${width}x${height} refused: the largest screen is ${maxWidth}x${maxHeight}`);
      return;
    }
    if (!this.source.desktop) return this.log('info', `screen::resize ignored: this instance's screen has a fixed size`);
    // Even sizes: the encoder's chroma planes are half the picture.
    this.wanted = { width: Math.max(2, width & ~1), height: Math.max(2, height & ~1) };
    void this.applyResize();
  }

  setClipboard(text: string): void {
    if (!this.source.desktop) return this.log('info', 'clipboard::set ignored: this instance has no clipboard');
    this.source.desktop.setClipboard(text);
  }

  /** An input event from the driver: without a virtual gamepad (virtual-gamepad.ts), gamepads have nowhere to go. */
  input(type: string): void {
    if (!type.startsWith('input::gamepad-') || this.source.gamepad || this.gamepadTold) return;
    this.gamepadTold = true;
    const reason = `this instance has no virtual gamepad: ${gamepadProblem() ?? 'its source takes none'}`;
    this.log('info', `gamepad input dropped: ${reason}`);
    this.streamer.sendControl({ type: 'gamepad::unsupported', data: { reason } });
  }

  private async applyResize(): Promise<void> {
    if (this.resizing) return;
    this.resizing = true;
    try {
      while (this.wanted) {
        const wait = this.lastResizeAt + RESIZE_MIN_INTERVAL_MS - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const { width, height } = this.wanted;
        this.wanted = null;
        this.lastResizeAt = performance.now();
        try {
          const size = await this.source.desktop!.resize(width, height);
          this.source.resized?.(size.width, size.height);
          this.streamer.resizeSource(size.width, size.height);
          this.log('info', `display resized to ${size.width}x${size.height}`);
        } catch (e) {
          this.log('warn', `screen::resize to ${width}x${height} failed: ${(e as Error).message}`);
        }
      }
    } finally {
      this.resizing = false;
    }
  }

  private clipboardChanged(text: string): void {
    for (const piece of clipboardPieces(text)) this.streamer.sendControl({ type: 'clipboard::changed', data: piece });
  }
}
