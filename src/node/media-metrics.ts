import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { MetricsService } from '../common/metrics/metrics.service';
import type { MediaStats } from './media-link/streamer.messages';
import { NodeRuntime } from './runtime/node-runtime.service';

/** Stats older than this belong to a stream nobody watches any more. */
const STALE_MS = 5000;

/**
 * Each streaming instance's encoder and each of its peers' rate control, in `/metrics`:
 * the media processes report once a second while someone watches.
 */
@Injectable()
export class MediaMetrics implements OnApplicationBootstrap {
  private readonly latest = new Map<string, { at: number; stats: MediaStats }>();

  constructor(
    private readonly runtime: NodeRuntime,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.runtime.onMediaStats((instanceId, stats) => this.latest.set(instanceId, { at: Date.now(), stats }));
    const peers = (pick: (p: MediaStats['peers'][number]) => number | null) => async () => {
      const out: [Record<string, string>, number][] = [];
      for (const [instance, stats] of this.fresh()) {
        for (const p of stats.peers) {
          const value = pick(p);
          if (value !== null) out.push([{ instance, peer: String(p.generation) }, value]);
        }
      }
      return out;
    };
    const encoder = (pick: (s: MediaStats) => number) => async () =>
      this.fresh().map(([instance, s]) => [{ instance, encoder: s.encoder }, pick(s)] as [Record<string, string>, number]);
    this.metrics.gauge('streamstack_peer_target_bitrate_kbps', 'Target bitrate of each peer\'s rate controller', ['instance', 'peer'], peers((p) => p.targetKbps));
    this.metrics.gauge('streamstack_peer_estimate_kbps', 'The receiver\'s last REMB estimate per peer', ['instance', 'peer'], peers((p) => p.estimateKbps));
    this.metrics.gauge('streamstack_peer_loss_ratio', 'Smoothed fraction of packets lost per peer (receiver reports)', ['instance', 'peer'], peers((p) => p.lossFraction));
    this.metrics.gauge('streamstack_peer_rtt_ms', 'Round-trip time per peer', ['instance', 'peer'], peers((p) => p.rttMs));
    this.metrics.gauge('streamstack_encoder_target_kbps', 'What each instance\'s video encoder is asked for', ['instance', 'encoder'], encoder((s) => s.targetKbps));
    this.metrics.gauge('streamstack_encoder_sent_kbps', 'What each instance\'s video encoder produced over the last second', ['instance', 'encoder'], encoder((s) => s.sentKbps));
    this.metrics.gauge('streamstack_encoder_fps', 'Frames each instance\'s video encoder produced over the last second', ['instance', 'encoder'], encoder((s) => s.fps));
  }

  private fresh(): [string, MediaStats][] {
    const now = Date.now();
    for (const [id, entry] of this.latest) if (now - entry.at > STALE_MS) this.latest.delete(id);
    return [...this.latest].map(([id, e]) => [id, e.stats]);
  }
}
