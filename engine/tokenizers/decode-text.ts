// Token ids back to text (a completion's echo of a prompt given as ids): each piece's bytes as it
// follows the one before (llama2.c drops the space after BOS), joined and decoded once, since a
// piece may hold part of a UTF-8 character.

/** `piece(prev, id)`: the bytes `id` adds after `prev` (-1 before the first), as TextTokenizer.decodePiece. */
export function decodeText(
  ids: readonly number[],
  piece: (prev: number, id: number) => Uint8Array,
): string {
  const pieces = ids.map((id, i) => piece(i ? ids[i - 1] : -1, id).slice());
  const bytes = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    bytes.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(bytes);
}
