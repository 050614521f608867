import { join } from 'node:path';
import { nextMessage, sendConfig } from '../../supervisor/child-config';
import type { MediaSource } from '../../media-link/streamer.messages';
import type { SourceContext, StartedSource } from '../source-context';
import type { FrameSourceConfig } from './frame-source';

const TONE_HZ = 440;

/**
 * Where the frame source will serve its pattern: known before it starts, so the media process
 * can be configured meanwhile (it connects once the frame source listens).
 */
export function testPatternMedia(ctx: Pick<SourceContext, 'socketDir'>): Extract<MediaSource, { kind: 'test-pattern' }> {
  return { kind: 'test-pattern', videoSocket: join(ctx.socketDir, 'video.sock'), audioSocket: join(ctx.socketDir, 'audio.sock') };
}

/** The frame source draws the pattern and serves it to the media process on two unix sockets. */
export async function startTestPattern(ctx: SourceContext): Promise<StartedSource> {
  const media = testPatternMedia(ctx);
  const config: FrameSourceConfig = {
    width: ctx.width,
    height: ctx.height,
    fps: ctx.fps,
    videoSocket: media.videoSocket,
    audioSocket: media.audioSocket,
    sampleRate: 48_000,
    channels: 2,
    toneHz: TONE_HZ,
  };
  const proc = await ctx.within(ctx.takeSpare('frame-source', join(ctx.workDir, 'frame-source.log')), 'the frame source did not load');
  const ready = nextMessage<{ type?: unknown }>(proc.child, (m) => m.type === 'ready', 'it was ready');
  sendConfig(proc.child, config);
  await ctx.within(ready, 'the frame source did not become ready');
  return {
    media,
    // The frame source draws the last input it got (over IPC).
    deliverInput: (event) => {
      if (proc.child.connected) proc.child.send(event, () => undefined); // a closed channel is reported as its exit
    },
  };
}
