import { useEffect, useRef, useState } from 'preact/hooks';
import { StreamRole, StreamstackClient, StreamStats } from '../../../libs/client-sdk/src';
import type { Account } from '../auth';
import { problemOf, Problem } from '../errors';
import { ProblemBox, Spinner } from '../ui';
import type { ScreenChoice } from './applications';

/** What to stream: a new session of an application, or an existing session. */
export type StreamTarget = { app: string; screen: ScreenChoice; microphone?: boolean } | { join: string; spectator?: boolean };

const STAT_ROWS: { label: string; show: (s: StreamStats) => string }[] = [
  { label: 'Resolution', show: (s) => `${s.width} × ${s.height}` },
  { label: 'Frame rate', show: (s) => `${s.fps} fps` },
  { label: 'Bitrate', show: (s) => `${(s.bitrateKbps / 1000).toFixed(2)} Mbit/s` },
  { label: 'Packet loss', show: (s) => `${s.packetLossPercent} %` },
  { label: 'Round trip', show: (s) => (s.rttMs === null ? '—' : `${s.rttMs} ms`) },
  { label: 'Jitter buffer', show: (s) => (s.jitterBufferDelayMs === null ? '—' : `${s.jitterBufferDelayMs} ms`) },
  { label: 'Decode', show: (s) => (s.decodeTimeMs === null ? '—' : `${s.decodeTimeMs} ms`) },
  { label: 'Freezes', show: (s) => `${s.freezeCount} (${s.freezeDurationMs} ms)` },
  { label: 'Path', show: (s) => s.candidateType ?? '—' },
];

/** The stream, full-window: a toolbar, the stats overlay, fullscreen, leave and end. */
export function StreamView({ account, target, onLeave }: { account: Account; target: StreamTarget; onLeave: () => void }) {
  const stage = useRef<HTMLDivElement>(null);
  const root = useRef<HTMLDivElement>(null);
  const client = useRef<StreamstackClient | null>(null);
  const [phase, setPhase] = useState<'starting' | 'ready' | 'reconnecting' | 'closed'>('starting');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [stats, setStats] = useState<StreamStats | null>(null);
  const [showStats, setShowStats] = useState(false);
  const [showClipboard, setShowClipboard] = useState(false);
  const [remoteClip, setRemoteClip] = useState<string | null>(null);
  // Known from the start when joining to watch; the instance's stream::role says so too.
  const [role, setRole] = useState<StreamRole | null>('join' in target && target.spectator ? 'spectator' : null);
  /** null: no microphone is sent. */
  const [micMuted, setMicMuted] = useState<boolean | null>(null);
  const fitsWindow = 'app' in target && target.screen === 'fit';
  const title = 'app' in target ? target.app : client.current?.session?.app ?? 'session';

  useEffect(() => {
    const microphone = 'app' in target && target.microphone === true;
    const c = new StreamstackClient({ token: account.token, element: stage.current!, input: { pointerLock: false }, microphone });
    client.current = c;
    c.on('ready', () => {
      setPhase('ready');
      setMicMuted(c.microphoneMuted);
    });
    c.on('reconnecting', () => setPhase('reconnecting'));
    c.on('stats', setStats);
    c.on('role', ({ role }) => setRole(role));
    // The application copied: offered in the panel; the person copies it here if they want it.
    c.on('clipboard', ({ text }) => setRemoteClip(text));
    c.on('closed', ({ error }) => {
      setPhase('closed');
      if (error) setProblem(problemOf(error));
    });
    const started =
      'app' in target
        ? c.connect({ app: target.app, screen: target.screen === 'fit' ? 'fit' : { ...target.screen, fps: 30 } })
        : c.join(target.join, { spectator: target.spectator === true });
    started.catch(() => undefined); // reported through `closed`
    // A screen sized to the window follows it (the instance takes a few resizes a second at most).
    let resizeTimer: ReturnType<typeof setTimeout> | undefined;
    const onResize = () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => c.state === 'ready' && c.resizeRemote(), 300);
    };
    if (fitsWindow) window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      clearTimeout(resizeTimer);
      void c.disconnect();
    };
  }, [account, target]);

  const leave = () => {
    void client.current?.disconnect();
    onLeave();
  };
  const end = async () => {
    try {
      await client.current?.end();
      onLeave();
    } catch (e) {
      setProblem(problemOf(e));
    }
  };
  const fullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void root.current?.requestFullscreen();
  };

  return (
    <div class="stream" ref={root}>
      <div class="stream-bar">
        <button class="button ghost" onClick={leave} aria-label="Back to the dashboard">
          ← Back
        </button>
        <span class="stream-title">{title}</span>
        {role === 'spectator' && <span class="badge">watching</span>}
        <span class="spacer" />
        {micMuted !== null && (
          <button
            class={`button ghost${micMuted ? ' on' : ''}`}
            onClick={() => client.current?.muteMicrophone(!micMuted) && setMicMuted(!micMuted)}
            aria-pressed={micMuted}
          >
            {micMuted ? 'Unmute' : 'Mute'}
          </button>
        )}
        {role !== 'spectator' && (
          <button class={`button ghost${showClipboard ? ' on' : ''}`} onClick={() => setShowClipboard(!showClipboard)} aria-pressed={showClipboard}>
            Clipboard
          </button>
        )}
        <button class={`button ghost${showStats ? ' on' : ''}`} onClick={() => setShowStats(!showStats)} aria-pressed={showStats}>
          Stats
        </button>
        <button class="button ghost" onClick={fullscreen}>
          Fullscreen
        </button>
        {role !== 'spectator' && (
          <button class="button danger" onClick={() => void end()}>
            End<span class="wide-only"> session</span>
          </button>
        )}
      </div>
      <div class="stream-stage" ref={stage} data-phase={phase} />
      {phase === 'starting' && (
        <div class="stream-cover">
          <Spinner label={`Starting ${title}…`} />
        </div>
      )}
      {phase === 'reconnecting' && (
        <div class="stream-cover">
          <Spinner label="Connection dropped, reconnecting…" />
        </div>
      )}
      {phase === 'closed' && (
        <div class="stream-cover">
          {problem ? (
            <ProblemBox problem={problem}>
              <button class="button primary" onClick={onLeave}>
                Back to the dashboard
              </button>
            </ProblemBox>
          ) : (
            <div class="problem">
              <strong>The stream has ended</strong>
              <button class="button primary" onClick={onLeave}>
                Back to the dashboard
              </button>
            </div>
          )}
        </div>
      )}
      {showClipboard && <ClipboardPanel client={client.current} remote={remoteClip} />}
      {showStats && (
        <dl class="stats" aria-label="Stream statistics">
          {stats ? (
            STAT_ROWS.map((r) => (
              <div key={r.label}>
                <dt>{r.label}</dt>
                <dd>{r.show(stats)}</dd>
              </div>
            ))
          ) : (
            <div>
              <dt>Waiting for the first measurement…</dt>
            </div>
          )}
        </dl>
      )}
    </div>
  );
}

/** Text to the application's clipboard, and what it copied last. */
function ClipboardPanel({ client, remote }: { client: StreamstackClient | null; remote: string | null }) {
  const [text, setText] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const send = () => {
    try {
      setNote(client?.setClipboard(text) ? 'Sent: paste it in the application.' : 'Not connected.');
    } catch (e) {
      setNote((e as Error).message);
    }
  };
  return (
    <div class="clipboard" aria-label="Clipboard">
      <label>
        To the application
        <textarea value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} rows={3} />
      </label>
      <button class="button primary" onClick={send} disabled={!text}>
        Send to its clipboard
      </button>
      {note && <p class="muted">{note}</p>}
      <label>
        Copied in the application
        <textarea value={remote ?? ''} readOnly rows={3} placeholder="Nothing yet" />
      </label>
      <button class="button" disabled={!remote} onClick={() => void navigator.clipboard?.writeText(remote ?? '').then(() => setNote('Copied here.'), () => setNote('This page may not write the clipboard.'))}>
        Copy here
      </button>
    </div>
  );
}
