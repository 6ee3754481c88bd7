export const MIN_PIECE = 256 * 1024;
export const MAX_PIECE = 16 * 1024 * 1024;
export const MAX_PIECES = 2000;

/**
 * mktorrent's default (256 KiB) doubled until the torrent has at most 2,000 pieces, capped at
 * 16 MiB: a big torrent lands between 1,000 and 2,000 pieces, so its .torrent stays small
 * (20 bytes a piece) while a client can still verify and share it in small steps.
 */
export function pieceLengthFor(totalBytes: number): number {
  let len = MIN_PIECE;
  while (len < MAX_PIECE && Math.ceil(totalBytes / len) > MAX_PIECES) len *= 2;
  return len;
}
