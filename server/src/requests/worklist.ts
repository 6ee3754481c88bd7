import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { RootLayout } from '../root/layout.js';
import type { Store } from '../store/index.js';
import type { RequestsRepo } from '../store/requests-repo.js';
import { MAX_LINE_BYTES } from './validate.js';

/** Where each device writes its requests (inside its synced folder; the index ignores .burrow/). */
export const WORKLIST_DIR = '.burrow';
export const WORKLIST_FILE = 'worklist.jsonl';

export function worklistPath(layout: RootLayout, device: string): string {
  return path.join(layout.device(device), WORKLIST_DIR, WORKLIST_FILE);
}

export type WorklistItem = { kind: 'line'; text: string; offset: number } | { kind: 'too-long'; bytes: number; offset: number };

export interface ReadLimit {
  /** Stop after this many lines. */
  lines?: number;
  /** Stop once performance.now() reaches this. */
  untilMs?: number;
}
export interface ReadResult {
  /** Lines handed over (blank lines not counted). */
  lines: number;
  /** True when the batch stopped at its limit with bytes left to read. */
  more: boolean;
}

const HEAD_BYTES = 4096;
const CHUNK = 256 * 1024;

/**
 * Reads each device's append-only worklist from where it stopped. The NAS only reads it. The
 * offset is stored in SQLite in the same transaction as the request the line became, so a
 * crash never loses or doubles a line. A worklist that shrank, or whose first line or inode
 * changed (a sync tool replaced it), is read again from the start: request ids make that
 * harmless. A partial last line waits for its newline.
 */
export class WorklistReader {
  constructor(
    private readonly layout: RootLayout,
    private readonly store: Store,
    private readonly requests: RequestsRepo,
  ) {}

  /**
   * Hand new complete lines to `intake` (called inside the transaction that moves the offset),
   * at most `limit.lines` of them and until `limit.untilMs` (performance.now()) has passed, so a
   * flooded worklist is read in bounded batches. When `intake` throws, `failed` records why in
   * a transaction of its own and the offset moves on all the same: no line can stall a worklist.
   */
  read(device: string, intake: (item: WorklistItem) => void, limit: ReadLimit = {}, failed?: (item: WorklistItem, err: unknown) => void): ReadResult {
    const maxLines = limit.lines ?? Infinity;
    const untilMs = limit.untilMs ?? Infinity;
    const file = worklistPath(this.layout, device);
    // The device controls this folder: never follow a symlink it planted.
    const dirSt = fs.lstatSync(path.dirname(file), { throwIfNoEntry: false });
    if (!dirSt?.isDirectory()) return { lines: 0, more: false };
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      return { lines: 0, more: false };
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return { lines: 0, more: false };
      const head = headHash(fd, st.size);
      const saved = this.requests.offsetOf(device);
      let offset = saved && saved.ino === st.ino && saved.head_hash === head && st.size >= saved.byte_offset ? saved.byte_offset : 0;
      if (saved && offset === 0 && saved.byte_offset !== 0) this.store.tx(() => this.requests.setOffset(device, 0, st.ino, head));
      // One transaction per batch (each line in a savepoint of its own): a commit per line cost
      // most of the time a flooded worklist took to drain.
      return this.store.tx((): ReadResult => {
        let n = 0;
        const commit = (item: WorklistItem | null, end: number): void => {
          try {
            this.store.tx(() => {
              if (item) intake(item);
              this.requests.setOffset(device, end, st.ino, head);
            });
          } catch (err) {
            try {
              this.store.tx(() => {
                if (item) failed?.(item, err);
                this.requests.setOffset(device, end, st.ino, head);
              });
            } catch {
              this.store.tx(() => this.requests.setOffset(device, end, st.ino, head));
            }
          }
          if (item) n++;
        };
        const full = (): boolean => n >= maxLines || performance.now() >= untilMs;
        let pending = Buffer.alloc(0);
        let pendingStart = offset;
        let pos = offset;
        const buf = Buffer.allocUnsafe(CHUNK);
        for (;;) {
          if (full()) return { lines: n, more: pendingStart < st.size };
          const got = fs.readSync(fd, buf, 0, CHUNK, pos);
          if (got === 0) break;
          pos += got;
          pending = pending.length === 0 ? Buffer.from(buf.subarray(0, got)) : Buffer.concat([pending, buf.subarray(0, got)]);
          let start = 0;
          for (let nl = pending.indexOf(10, start); nl >= 0 && !full(); nl = pending.indexOf(10, start)) {
            const lineStart = pendingStart + start;
            const lineEnd = pendingStart + nl + 1;
            const bytes = nl - start;
            const item: WorklistItem | null =
              bytes > MAX_LINE_BYTES
                ? { kind: 'too-long', bytes, offset: lineStart }
                : pending.subarray(start, nl).toString('utf8').trim() === ''
                  ? null
                  : { kind: 'line', text: pending.subarray(start, nl).toString('utf8'), offset: lineStart };
            commit(item, lineEnd);
            start = nl + 1;
          }
          pendingStart += start;
          pending = pending.subarray(start);
          if (full()) return { lines: n, more: true };
          // A line still without its newline: keep only what is needed to judge it later.
          if (pending.length > MAX_LINE_BYTES + 1) pending = Buffer.from(pending.subarray(0, MAX_LINE_BYTES + 1));
          if (pending.length > MAX_LINE_BYTES) {
            // Too long already: skip to its newline without holding it in memory.
            const nlPos = findNewline(fd, pos);
            if (nlPos < 0) break;
            const bytes = nlPos - pendingStart;
            commit({ kind: 'too-long', bytes, offset: pendingStart }, nlPos + 1);
            pos = nlPos + 1;
            pendingStart = pos;
            pending = Buffer.alloc(0);
          }
        }
        return { lines: n, more: false };
      });
    } finally {
      fs.closeSync(fd);
    }
  }
}

function headHash(fd: number, size: number): string {
  const buf = Buffer.alloc(Math.min(HEAD_BYTES, size));
  const got = buf.length ? fs.readSync(fd, buf, 0, buf.length, 0) : 0;
  const nl = buf.subarray(0, got).indexOf(10);
  // Only a complete first line is stable while the device appends.
  return nl < 0 ? '' : crypto.createHash('sha1').update(buf.subarray(0, nl)).digest('hex');
}

function findNewline(fd: number, from: number): number {
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = from;
  for (;;) {
    const got = fs.readSync(fd, buf, 0, CHUNK, pos);
    if (got === 0) return -1;
    const i = buf.subarray(0, got).indexOf(10);
    if (i >= 0) return pos + i;
    pos += got;
  }
}

/** A stable id for a worklist line that has none usable: same line at the same place, same id. */
export function lineFallbackId(device: string, item: WorklistItem): string {
  const h = crypto.createHash('sha1').update(item.kind === 'line' ? item.text : `too-long:${item.bytes}`).digest('hex').slice(0, 12);
  return `wl-${device.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64)}-${item.offset}-${h}`;
}
