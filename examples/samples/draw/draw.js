// streamstack's sample drawing program: paints in a terminal with the mouse (xterm's SGR mouse
// reporting), so it needs nothing but node. A marker follows the pointer; dragging with a button
// held paints; keys 1-6 pick a colour, c clears. Plain Node, no dependencies.
'use strict';

const COLOURS = [196, 208, 226, 46, 39, 201]; // 256-colour palette: red, orange, yellow, green, blue, pink
const out = process.stdout;
let colour = 0;
let marker = null; // where the pointer is: { x, y } (1-based cells)
const painted = new Map(); // "x,y" -> colour index

const write = (s) => out.write(s);
const at = (x, y) => `\x1b[${y};${x}H`;

function header() {
  const swatches = COLOURS.map((c, i) => `\x1b[38;5;${c}m${i === colour ? '[█]' : ' █ '}\x1b[0m`).join('');
  write(`${at(1, 1)}\x1b[2K streamstack draw · drag to paint · 1-6 colour ${swatches} · c clear · pointer ${marker ? `${marker.x},${marker.y}` : '-'}`);
}

function cell(x, y) {
  const key = `${x},${y}`;
  if (y < 3) return;
  if (painted.has(key)) write(`${at(x, y)}\x1b[48;5;${COLOURS[painted.get(key)]}m \x1b[0m`);
  else write(`${at(x, y)} `);
}

function clear() {
  painted.clear();
  write('\x1b[2J');
  header();
}

function moveMarker(x, y) {
  if (marker) cell(marker.x, marker.y);
  marker = y >= 3 ? { x, y } : null;
  if (marker && !painted.has(`${x},${y}`)) write(`${at(x, y)}\x1b[38;5;${COLOURS[colour]}m+\x1b[0m`);
  header();
}

function paint(x, y) {
  if (y < 3) return;
  painted.set(`${x},${y}`, colour);
  cell(x, y);
}

// Mouse: report presses, drags and plain motion (1003) in SGR form (1006); hide the cursor.
write('\x1b[?1049h\x1b[?25l\x1b[?1003h\x1b[?1006h');
clear();
process.on('exit', () => write('\x1b[?1003l\x1b[?1006l\x1b[?25h\x1b[?1049l'));
process.stdin.setRawMode?.(true);
process.stdin.resume();

let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk.toString('latin1');
  while (pending) {
    // A mouse report: \x1b[<b;x;yM (press or motion) or ...m (release).
    const m = /^\x1b\[<(\d+);(\d+);(\d+)([Mm])/.exec(pending);
    if (m) {
      pending = pending.slice(m[0].length);
      const [b, x, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
      moveMarker(x, y);
      const dragging = (b & 32) !== 0 && (b & 3) !== 3;
      if (m[4] === 'M' && (dragging || b < 3)) paint(x, y);
      continue;
    }
    if (/^\x1b(\[(<[\d;]*)?)?$/.test(pending)) break; // the rest of a report is still coming
    const ch = pending[0];
    pending = pending.slice(1);
    if (ch >= '1' && ch <= '6') {
      colour = Number(ch) - 1;
      header();
    } else if (ch === 'c') clear();
    else if (ch === '\x03') process.exit(0);
  }
});
process.stdout.on('resize', clear);
