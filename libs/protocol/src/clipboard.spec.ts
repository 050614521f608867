import { CLIPBOARD_MAX_BYTES, CLIPBOARD_MAX_PIECES, CLIPBOARD_PIECE_CHARS, ClipboardAssembler, clipboardPieces } from './clipboard';

/** Feeds every piece of `text` to `a`; the results that were not null. */
const feed = (a: ClipboardAssembler, text: string) => clipboardPieces(text).map((p) => a.add(p.text, p.more === true)).filter((r) => r !== null);

describe('ClipboardAssembler', () => {
  it('gives back a text sent in pieces, once, when its last piece comes; then the next one', () => {
    const a = new ClipboardAssembler();
    const long = 'é'.repeat(CLIPBOARD_PIECE_CHARS * 2 + 5); // three pieces, two bytes a character
    expect(feed(a, long)).toEqual([{ text: long }]);
    expect(feed(a, 'short')).toEqual([{ text: 'short' }]);
    expect(feed(a, '')).toEqual([{ text: '' }]);
  });

  it('drops a text over the byte cap whole, says so once, keeps nothing of it, and takes the next text', () => {
    const a = new ClipboardAssembler();
    // 1 MiB of two-byte characters is half the characters: over the cap well before its last piece.
    const tooBig = 'é'.repeat(CLIPBOARD_MAX_BYTES / 2 + 1);
    const results = feed(a, tooBig);
    expect(results).toEqual([{ dropped: `over ${CLIPBOARD_MAX_BYTES} bytes or ${CLIPBOARD_MAX_PIECES} pieces` }]);
    expect(feed(a, 'after')).toEqual([{ text: 'after' }]);
  });

  it('drops a text of too many pieces (small ones: a sender that never says it is done) without growing', () => {
    const a = new ClipboardAssembler();
    const results = Array.from({ length: CLIPBOARD_MAX_PIECES * 3 }, () => a.add('x', true)).filter((r) => r !== null);
    expect(results).toEqual([{ dropped: expect.stringContaining(`${CLIPBOARD_MAX_PIECES} pieces`) }]);
    expect(a.add('end', false)).toBeNull(); // the dropped text's last piece: nothing comes out
    expect(a.add('next', false)).toEqual({ text: 'next' });
  });

  it('drops a text a piece of which was lost, even when it is small', () => {
    const a = new ClipboardAssembler();
    expect(a.add('ab', true)).toBeNull();
    expect(a.add('cd', true, true)).toEqual({ dropped: 'a piece of it was lost' });
    expect(a.add('ef', false)).toBeNull();
    expect(a.add('whole', false)).toEqual({ text: 'whole' });
  });
});
