/**
 * The clipboard and data-channel rules both ends share (PROTOCOL.md §5, §5a). Dependency-free:
 * the browser SDK and the media process import it by relative path.
 */

/** The largest clipboard text either way, in UTF-8 bytes. */
export const CLIPBOARD_MAX_BYTES = 1024 * 1024;
/** Clipboard text travels in pieces of at most this many characters (a data channel message has a size limit: 256 KiB in Chromium). */
export const CLIPBOARD_PIECE_CHARS = 8192;
/** The most pieces one text may take (1 MiB of one-byte characters, and some slack). */
export const CLIPBOARD_MAX_PIECES = Math.ceil(CLIPBOARD_MAX_BYTES / CLIPBOARD_PIECE_CHARS) + 8;

/** `{text, more}` pieces of `text`: every one but the last says `more: true`. */
export function clipboardPieces(text: string): Array<{ text: string; more?: true }> {
  const count = Math.max(1, Math.ceil(text.length / CLIPBOARD_PIECE_CHARS));
  return Array.from({ length: count }, (_, i) => {
    const piece = text.slice(i * CLIPBOARD_PIECE_CHARS, (i + 1) * CLIPBOARD_PIECE_CHARS);
    return i < count - 1 ? { text: piece, more: true } : { text: piece };
  });
}

/** Names a user data channel may have; `control` is the control channel's. */
export const DATA_CHANNEL_NAME = /^[a-z0-9-]{1,32}$/;
