/**
 * The Anbox SDK's key table (PROTOCOL.md §5: its `_keyScancodes`, USB HID usage ids up to 82 and
 * its own codes after), as the X keysym names xdotool takes. A keysym, not a keycode: X maps it
 * onto whatever its keymap has, so held modifiers apply (Shift + KeyA types "A").
 */
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

export const SDK_KEYSYMS: ReadonlyMap<number, string> = new Map<number, string>([
  ...[...LETTERS].map((c, i) => [4 + i, c] as [number, string]), // KeyA..KeyZ = 4..29
  ...[...'123456789'].map((c, i) => [30 + i, c] as [number, string]), // Digit1..Digit9 = 30..38
  [39, '0'],
  [40, 'Return'],
  [41, 'Escape'],
  [42, 'BackSpace'],
  [43, 'Tab'],
  [44, 'space'],
  [45, 'minus'],
  [46, 'equal'],
  [47, 'bracketleft'],
  [48, 'bracketright'],
  [49, 'backslash'],
  [50, 'apostrophe'], // the SDK's Quote (HID says 52)
  [51, 'semicolon'],
  [52, 'apostrophe'], // HID's Quote, for clients that follow HID
  [53, 'grave'], // HID's Backquote
  [54, 'comma'],
  [55, 'period'],
  [56, 'slash'],
  [57, 'Caps_Lock'],
  ...Array.from({ length: 12 }, (_, i) => [58 + i, `F${i + 1}`] as [number, string]), // F1..F12 = 58..69
  [70, 'Print'],
  [71, 'Scroll_Lock'],
  [72, 'Pause'],
  [73, 'Insert'],
  [74, 'Home'],
  [75, 'Prior'],
  [76, 'Delete'],
  [77, 'End'],
  [78, 'Next'],
  [79, 'Right'],
  [80, 'Left'],
  [81, 'Down'],
  [82, 'Up'],
  [83, 'Control_L'],
  [84, 'Shift_L'],
  [85, 'Alt_L'],
  [86, 'Super_L'],
  [87, 'ISO_Level3_Shift'], // AltGraph
  [88, 'Num_Lock'],
  [89, 'XF86AudioLowerVolume'],
  [90, 'XF86AudioRaiseVolume'],
  [91, 'XF86PowerOff'],
  [92, 'XF86Back'],
]);

/** The largest code of the table: control-channel key codes above it are refused. */
export const SDK_KEY_MAX = Math.max(...SDK_KEYSYMS.keys());
