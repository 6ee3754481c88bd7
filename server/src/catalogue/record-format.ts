/**
 * The catalogue's data format, shared by the publisher (here) and the page (catalogue.js).
 *
 * A data shard is `BURROW_CHUNK("<name>", "<records>")`: records are sorted by path and
 * front-coded (each path stores how many characters it shares with the previous one),
 * and every record is RECORD_FIELDS fields joined by "|":
 *   shared-prefix-length (base 36) | rest of the path (escaped) | "f" or "d" | size (base 36) | mtime seconds (base 36) | holders
 * holders is "/"-joined: device names, and "+<share-id>" for shares (neither can contain "/" or "|").
 * Only the path can contain "|" or "\", so only the path is escaped: "\" → "\\", "|" → "\!".
 */
export const RECORD_FIELDS = 6;
export const FIELD_SEP = '|';

export function escapePathPart(s: string): string {
  if (s.indexOf('\\') < 0 && s.indexOf('|') < 0) return s;
  return s.replace(/[\\|]/g, (c) => (c === '\\' ? '\\\\' : '\\!'));
}

export function sharedPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Never split a surrogate pair: the suffix must stay well-formed when stringified.
  if (i > 0 && i < b.length && (b.charCodeAt(i) & 0xfc00) === 0xdc00) i--;
  return i;
}

/** FNV-1a over UTF-16 code units: a fast, stable hash that picks chunk boundaries from content. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A path starts a new shard when its hash says so, independent of its neighbours, so adding or
 * removing a file moves at most one boundary and every other shard keeps its name and bytes
 * (content-defined chunking, as rsync and restic do with rolling hashes). Hash boundaries alone
 * give a long tail of big shards, so a shard already twice the average also ends at any path
 * matching a weaker backup divisor (the "two thresholds, two divisors" scheme), which stays
 * content-defined and caps shards near 2-3 times the average.
 */
export function isBoundary(path: string, every: number, recordsSoFar: number): boolean {
  const h = fnv1a(path);
  if (h % every === 0) return true;
  return recordsSoFar >= 2 * every && h % Math.max(1, every >> 3) === 0;
}

/** Wrap a JSON value as a script that calls the page's loader; JSON is valid JS since ES2019. */
export function jsCall(fn: string, ...args: unknown[]): string {
  return `${fn}(${args.map((a) => JSON.stringify(a)).join(',')});\n`;
}
