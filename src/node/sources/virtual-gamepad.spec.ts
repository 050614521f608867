import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../supervisor/executables';
import { GAMEPAD_BUTTONS, gamepadDescription, gamepadLines, gamepadProblem } from './virtual-gamepad';

describe('the virtual gamepad', () => {
  it('plays standard-layout buttons and axes as evdev events, each with a SYN_REPORT, and nothing for what the pad lacks', () => {
    expect(gamepadLines({ type: 'input::gamepad-button', data: { id: 0, index: 0, pressed: true } })).toEqual(['E: 0.000000 0001 0130 1', 'E: 0.000000 0000 0000 0']);
    expect(gamepadLines({ type: 'input::gamepad-button', data: { id: 0, index: 15, pressed: false } })).toEqual(['E: 0.000000 0001 0223 0', 'E: 0.000000 0000 0000 0']);
    expect(gamepadLines({ type: 'input::gamepad-axes', data: { id: 0, index: 3, value: -1 } })[0]).toBe('E: 0.000000 0003 0004 -32767');
    expect(gamepadLines({ type: 'input::gamepad-axes', data: { id: 0, index: 0, value: 0.5 } })[0]).toBe('E: 0.000000 0003 0000 16384');
    for (const bad of [
      { type: 'input::gamepad-button', data: { index: GAMEPAD_BUTTONS.length, pressed: true } },
      { type: 'input::gamepad-button', data: { index: -1, pressed: true } },
      { type: 'input::gamepad-axes', data: { index: 4, value: 0 } },
      { type: 'input::gamepad-axes', data: { index: 0, value: Number.NaN } },
      { type: 'input::key', data: { code: 4, pressed: true } },
    ]) {
      expect(gamepadLines(bad)).toEqual([]);
    }
  });

  (existsSync('/dev/uinput') ? it.skip : it)('says why there is none on a node without /dev/uinput (this one)', () => {
    expect(gamepadProblem()).toBe('this node has no writable /dev/uinput for a virtual gamepad');
  });

  (findOnPath('evemu-device') ? it : it.skip)('describes a pad that evemu-device reads (here it then fails only for want of /dev/uinput)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-pad-'));
    try {
      const file = join(dir, 'pad.evemu');
      writeFileSync(file, gamepadDescription());
      const stderr = await new Promise<string>((resolve) => execFile('evemu-device', [file], { timeout: 5000 }, (_err, _out, err) => resolve(err)));
      expect(stderr).not.toMatch(/FATAL|Expected|invalid/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
