/**
 * The torrent's hashing threads: runs handed out as threads come free give the same pieces as one
 * straight pass over the concatenated files; two torrents made at once share the threads; a file
 * that shrinks fails only its own torrent; and the pool, kept for the next torrent, never keeps a
 * finished process alive.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPieces } from '../../server/src/torrent/hash-pieces.js';
import { tempDir } from '../helpers/tmp.js';

const t = tempDir('burrow-hashpool-');
afterAll(() => t.cleanup());

const PIECE = 16 * 1024;

function files(name: string, sizes: number[]): Array<{ abs: string; size: number }> {
  return sizes.map((size, i) => {
    const abs = path.join(t.dir, `${name}-${i}`);
    fs.writeFileSync(abs, crypto.randomBytes(size));
    return { abs, size };
  });
}

/** SHA-1 of each piece of the files laid end to end, in one pass. */
function straight(list: Array<{ abs: string }>): Buffer {
  const all = Buffer.concat(list.map((f) => fs.readFileSync(f.abs)));
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; at += PIECE) out.push(crypto.createHash('sha1').update(all.subarray(at, at + PIECE)).digest());
  return Buffer.concat(out);
}

const total = (list: Array<{ size: number }>) => list.reduce((n, f) => n + f.size, 0);

describe('hashPieces', () => {
  it('gives the pieces of one straight pass, across file boundaries, empty files and many runs; two torrents at once', async () => {
    // ~200 pieces: several runs per thread, with runs starting inside files and on empty ones.
    const a = files('a', [0, 1, PIECE - 1, 0, PIECE + 1, 1_000_000, 3, 0, 2_200_000, 7]);
    const b = files('b', [5 * PIECE, 123_457, 0, 999_999]);
    const [ha, hb] = await Promise.all([hashPieces(a, PIECE, total(a)), hashPieces(b, PIECE, total(b))]);
    expect(ha.length).toBe(Math.ceil(total(a) / PIECE) * 20);
    expect(ha.equals(straight(a))).toBe(true);
    expect(hb.equals(straight(b))).toBe(true);
  });

  it('a file shorter than listed fails its own torrent, with a message naming it; the other torrent is whole', async () => {
    const good = files('good', [2_000_000, 1_500_000]);
    const bad = files('bad', [1_000_000, 1_000_000]);
    fs.truncateSync(bad[1]!.abs, 10);
    const [ok, failed] = await Promise.allSettled([hashPieces(good, PIECE, total(good)), hashPieces(bad, PIECE, total(bad))]);
    expect(ok.status).toBe('fulfilled');
    expect((ok as PromiseFulfilledResult<Buffer>).value.equals(straight(good))).toBe(true);
    expect(failed.status).toBe('rejected');
    const err = (failed as PromiseRejectedResult).reason as Error & { code?: string };
    expect(err.code).toBe('SOURCE_CHANGED');
    expect(err.message).toContain(bad[1]!.abs);
  });

  it('a process that made a torrent exits at once: the idle threads kept for the next one hold nothing open', () => {
    const f = files('exit', [3_000_000])[0]!;
    const script = `import { hashPieces } from ${JSON.stringify(path.resolve('dist/server/src/torrent/hash-pieces.js'))};
      const h = await hashPieces([{ abs: ${JSON.stringify(f.abs)}, size: 3000000 }], ${PIECE}, 3000000);
      console.log(h.length);`;
    const started = Date.now();
    const file = path.join(t.dir, 'make.mjs');
    fs.writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(String(Math.ceil(3_000_000 / PIECE) * 20));
    expect(Date.now() - started).toBeLessThan(10_000); // the pool's idle timeout is 60 s
  });
});
