import { accessSync, constants, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pollUntil } from '../../common/poll';
import { childEnv } from '../supervisor/child-env';
import { findOnPath } from '../supervisor/executables';
import type { SourceContext } from './source-context';

/**
 * Gamepads for x11 applications (issue 10): where the node has /dev/uinput and Debian's
 * evemu-tools, each x11 instance gets a virtual gamepad, an evdev device like a USB pad (the
 * standard W3C layout mapped onto BTN_SOUTH…, ABS_X…) made by `evemu-device` (it lives as long
 * as that process) and driven by `evemu-play` from its stdin. Its event node is bound into the
 * sandbox, where SDL and friends find it under /dev/input. Elsewhere the driver hears
 * `gamepad::unsupported` (driver-requests.ts).
 */

/** Why no virtual gamepad can be made on this node, or null. */
export function gamepadProblem(): string | null {
  try {
    accessSync('/dev/uinput', constants.W_OK);
  } catch {
    return 'this node has no writable /dev/uinput for a virtual gamepad';
  }
  if (!findOnPath('evemu-device') || !findOnPath('evemu-play')) return 'a virtual gamepad needs evemu-tools on the node (Debian: apt-get install evemu-tools)';
  return null;
}

const EV_SYN = 0;
const EV_KEY = 1;
const EV_ABS = 3;

/** W3C standard gamepad buttons 0-16 → evdev key codes (linux/input-event-codes.h). */
export const GAMEPAD_BUTTONS = [
  0x130, // 0 BTN_SOUTH (A)
  0x131, // 1 BTN_EAST (B)
  0x134, // 2 BTN_WEST (X)
  0x133, // 3 BTN_NORTH (Y)
  0x136, // 4 BTN_TL
  0x137, // 5 BTN_TR
  0x138, // 6 BTN_TL2
  0x139, // 7 BTN_TR2
  0x13a, // 8 BTN_SELECT
  0x13b, // 9 BTN_START
  0x13d, // 10 BTN_THUMBL
  0x13e, // 11 BTN_THUMBR
  0x220, // 12 BTN_DPAD_UP
  0x221, // 13 BTN_DPAD_DOWN
  0x222, // 14 BTN_DPAD_LEFT
  0x223, // 15 BTN_DPAD_RIGHT
  0x13c, // 16 BTN_MODE
];
/** W3C standard axes 0-3 (left x, left y, right x, right y) → ABS_X, ABS_Y, ABS_RX, ABS_RY. */
export const GAMEPAD_AXES = [0x00, 0x01, 0x03, 0x04];
const AXIS_MAX = 32767;

/** The evemu description of the pad: its event types, keys and axes (evemu-describe's format). */
export function gamepadDescription(): string {
  const mask = (type: number, bits: number[], bytes: number) => {
    const b = new Array<number>(bytes).fill(0);
    for (const bit of bits) b[bit >> 3] |= 1 << (bit & 7);
    const lines: string[] = [];
    for (let i = 0; i < bytes; i += 8) lines.push(`B: ${hex2(type)} ${b.slice(i, i + 8).map(hex2).join(' ')}`);
    return lines;
  };
  return [
    '# EVEMU 1.3',
    'N: streamstack virtual gamepad',
    'I: 0003 045e 028e 0110', // USB; the ids of a common pad, so that games' mapping databases know it
    'P: 00 00 00 00 00 00 00 00',
    ...mask(0, [EV_SYN, EV_KEY, EV_ABS], 8),
    ...mask(EV_KEY, GAMEPAD_BUTTONS, 96),
    ...mask(2, [], 8),
    ...mask(EV_ABS, GAMEPAD_AXES, 8),
    ...GAMEPAD_AXES.map((axis) => `A: ${hex2(axis)} ${-AXIS_MAX - 1} ${AXIS_MAX} 16 128 0`),
    '',
  ].join('\n');
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/**
 * evemu-play lines for one PROTOCOL.md §5 gamepad event (a SYN_REPORT after it), or none for
 * what the pad does not have. Every line has time 0: evemu-play sleeps for the time between
 * events, and these are played as they arrive.
 */
export function gamepadLines(event: { type: string; data: unknown }): string[] {
  const d = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<string, unknown>;
  const index = typeof d.index === 'number' && Number.isInteger(d.index) ? d.index : -1;
  let line: string | null = null;
  if (event.type === 'input::gamepad-button' && index >= 0 && index < GAMEPAD_BUTTONS.length) {
    line = `E: 0.000000 ${hex4(EV_KEY)} ${hex4(GAMEPAD_BUTTONS[index])} ${d.pressed === true ? 1 : 0}`;
  } else if (event.type === 'input::gamepad-axes' && index >= 0 && index < GAMEPAD_AXES.length && typeof d.value === 'number' && Number.isFinite(d.value)) {
    const value = Math.round(Math.max(-1, Math.min(1, d.value)) * AXIS_MAX);
    line = `E: 0.000000 ${hex4(EV_ABS)} ${hex4(GAMEPAD_AXES[index])} ${value}`;
  }
  return line ? [line, `E: 0.000000 ${hex4(EV_SYN)} 0000 0`] : [];
}

export interface VirtualGamepad {
  /** Its event node (/dev/input/eventN), for the sandbox. */
  device: string;
  /** Plays a §5 gamepad event on it. */
  deliver(event: { type: string; data: unknown }): void;
}

/** Makes the instance's pad (evemu-device) and its player (evemu-play): both members of its group. */
export async function startVirtualGamepad(ctx: SourceContext): Promise<VirtualGamepad> {
  const description = join(ctx.workDir, 'gamepad.evemu');
  await writeFile(description, gamepadDescription());
  const logFile = join(ctx.workDir, 'gamepad.log');
  // It prints "<name>: /dev/input/eventN" once the device exists: read only what this run adds
  // to the log (an earlier run of the instance left its own device's path there).
  const from = readTextOrEmpty(logFile).length;
  ctx.group.spawn({ name: 'gamepad', command: findOnPath('evemu-device')!, args: [description], env: childEnv(), cwd: ctx.workDir, logFile });
  const devicePath = () => /: (\/dev\/input\/event\d+)$/m.exec(readTextOrEmpty(logFile).slice(from))?.[1];
  const device = await ctx.within(pollUntil(devicePath, ctx.startTimeoutMs, 'a device path in its output'), 'evemu-device did not make the virtual gamepad');
  const player = ctx.group.spawn({ name: 'gamepad', command: findOnPath('evemu-play')!, args: [device], env: childEnv(), cwd: ctx.workDir, logFile, pipeStdin: true });
  const stdin = player.child.stdin;
  stdin?.on('error', () => undefined); // evemu-play gone: reported as its exit
  return {
    device,
    deliver: (event) => {
      const lines = gamepadLines(event);
      if (lines.length && stdin?.writable) stdin.write(`${lines.join('\n')}\n`);
    },
  };
}

function readTextOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
