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

/**
 * Joins `{text, more}` pieces back into the text (either end: the media process the driver's
 * `clipboard::set`, the SDK the application's `clipboard::changed`). A text over
 * CLIPBOARD_MAX_BYTES or CLIPBOARD_MAX_PIECES, or one a piece of which was `lost`, is dropped
 * whole, its later pieces too: nothing partial ever comes out, and nothing grows past the cap.
 */
export class ClipboardAssembler {
  private pieces: string[] = [];
  private bytes = 0;
  private dropping = false;

  /**
   * Takes one piece. Returns the whole text when this was its last piece, `{dropped}` (once per
   * text, with the reason) when the text has just gone over, else null.
   */
  add(text: string, more: boolean, lost = false): { text: string } | { dropped: string } | null {
    let result: { text: string } | { dropped: string } | null = null;
    if (!this.dropping) {
      this.pieces.push(text);
      this.bytes += utf8Bytes(text);
      if (lost || this.bytes > CLIPBOARD_MAX_BYTES || this.pieces.length > CLIPBOARD_MAX_PIECES) {
        this.dropping = true;
        this.pieces = [];
        result = { dropped: lost ? 'a piece of it was lost' : `over ${CLIPBOARD_MAX_BYTES} bytes or ${CLIPBOARD_MAX_PIECES} pieces` };
      }
    }
    if (more) return result;
    if (!this.dropping) result = { text: this.pieces.join('') };
    this.pieces = [];
    this.bytes = 0;
    this.dropping = false;
    return result;
  }
}

const utf8 = new TextEncoder();
/** The UTF-8 size of `text`, as CLIPBOARD_MAX_BYTES counts it (in the browser too: no Buffer there). */
export const utf8Bytes = (text: string): number => utf8.encode(text).length;

/** Names a user data channel may have; `control` is the control channel's. */
export const DATA_CHANNEL_NAME = /^[a-z0-9-]{1,32}$/;
