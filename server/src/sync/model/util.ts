/** Small helpers the folder's parts share. */
import crypto from 'node:crypto';
import type { PlainRecord } from './records.js';

/**
 * The mode a received file gets: permission bits only (never setuid, setgid
 * or sticky from the network), and always readable and writable by its owner.
 */
export function fileMode(recordMode: number): number {
  return (recordMode & 0o777) | 0o600;
}

export function now(): number {
  return Date.now();
}
export function sha256b64(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('base64');
}
export function sameBlocks(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
export function sameContent(a: PlainRecord, b: PlainRecord): boolean {
  return a.del === b.del && a.size === b.size && sameBlocks(a.blocks, b.blocks);
}

export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  let failed: Error | null = null;
  const worker = async (): Promise<void> => {
    while (i < items.length && !failed) {
      const t = items[i++]!;
      try {
        await fn(t);
      } catch (e) {
        failed = e as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed;
}
