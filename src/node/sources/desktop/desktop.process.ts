/**
 * Child-process entry of an x11 instance's desktop helper (desktop.ts), started by startX11 once
 * Xvfb runs and living as long as it: its first IPC message is `{kind:'config', config:
 * {display, width, height}}` (child-config.ts); it sets that size and answers `ready`. Then
 * `resize` and `clipboard` from the runtime; `clipboard` when the application copies. It exits
 * when the IPC channel or the display closes. Logs go to stderr.
 *
 * No path aliases: it runs as plain node from dist.
 */
import { receiveConfig } from '../../supervisor/child-config';
import { Desktop } from './desktop';
import { parseDesktopInbound, type DesktopConfig, type DesktopOutbound } from './desktop.messages';

function log(level: string, message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} desktop[${process.pid}]: ${message}\n`);
}

function send(message: DesktopOutbound): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
}

async function main(): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  const config = (await receiveConfig()) as DesktopConfig;
  const desktop = await Desktop.open(config.display, {
    clipboard: (text) => send({ kind: 'clipboard', text }),
    log,
    closed: () => {
      log('info', `${config.display} closed`);
      process.exit(0);
    },
  });
  await desktop.resize(config.width, config.height);
  process.on('message', (m: unknown) => {
    const msg = parseDesktopInbound(m);
    if (!msg) return log('warn', `ignoring a malformed IPC message: ${JSON.stringify(m)?.slice(0, 200)}`);
    if (msg.kind === 'resize') {
      desktop.resize(msg.width, msg.height).then(
        (size) => send({ kind: 'resized', id: msg.id, ...size }),
        (e: Error) => send({ kind: 'resize-failed', id: msg.id, reason: e.message }),
      );
    } else {
      desktop.setClipboard(msg.text).catch((e: Error) => log('warn', `setting the clipboard: ${e.message}`));
    }
  });
  send({ kind: 'ready', ...desktop.current });
}

main().catch((e: Error) => {
  log('error', `cannot start: ${e.message}`);
  setTimeout(() => process.exit(1), 20);
});
