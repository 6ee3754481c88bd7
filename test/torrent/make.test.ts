/** The .torrent Burrow makes is the one Debian's mktorrent makes of the same files (same info hash). */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import bencode from 'bencode';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { makeTorrent } from '../../server/src/torrent/make-torrent.js';
import { pieceLengthFor } from '../../server/src/torrent/piece-length.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';

const t = tempDir('burrow-mktorrent-');
afterAll(() => t.cleanup());

function mktorrentInfoHash(target: string, pieceLength: number, priv: boolean): string {
  const out = path.join(t.dir, `${crypto.randomBytes(4).toString('hex')}.torrent`);
  const r = spawnSync('mktorrent', ['-l', String(Math.log2(pieceLength)), ...(priv ? ['-p'] : []), '-w', 'http://127.0.0.1:1/', '-o', out, target], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const info = (bencode.decode(fs.readFileSync(out)) as { info: Record<string, unknown> }).info;
  return crypto.createHash('sha1').update(bencode.encode(info as never)).digest('hex');
}

describe('makeTorrent', () => {
  it('chooses 256 KiB to 16 MiB pieces, at most 2,000 of them', () => {
    const MiB = 1024 * 1024;
    expect(pieceLengthFor(1)).toBe(256 * 1024);
    expect(pieceLengthFor(500 * MiB)).toBe(256 * 1024); // exactly 2,000 pieces
    expect(pieceLengthFor(500 * MiB + 1)).toBe(512 * 1024);
    expect(pieceLengthFor(2048 * MiB)).toBe(2 * MiB); // 1,024 pieces
    expect(pieceLengthFor(4096 * 1024 * MiB)).toBe(16 * MiB);
    for (const size of [700 * MiB, 3000 * MiB, 20_000 * MiB]) {
      const n = Math.ceil(size / pieceLengthFor(size));
      expect(n).toBeGreaterThanOrEqual(1000);
      expect(n).toBeLessThanOrEqual(2000);
    }
  });

  it('a file and a folder (pieces across file boundaries, nested folders, several workers) hash as mktorrent hashes them', async () => {
    const root = path.join(t.dir, 'nas');
    initRoot(root);
    const files = path.join(root, 'files');
    writeFiles(files, {
      'one.bin': crypto.randomBytes(5 * 256 * 1024 + 12345),
      'tree/a.bin': crypto.randomBytes(100_000),
      'tree/b/c.bin': crypto.randomBytes(256 * 1024), // crosses a piece boundary after a.bin
      'tree/b/d/e.txt': 'tiny',
      'tree/z.bin': crypto.randomBytes(40 * 256 * 1024 + 7), // enough pieces for two worker threads
    });
    const r = openRoot(root);
    try {
      for (const [rel, once] of [
        ['one.bin', false],
        ['tree', false],
        ['tree', true],
      ] as const) {
        const made = await makeTorrent(files, rel, once ? 'once' : 'public', r.config, '@nas', new Date());
        expect(made.row.info_hash, `${rel} once=${once}`).toBe(mktorrentInfoHash(path.join(files, rel), made.row.piece_length, once));
      }
    } finally {
      r.close();
    }
  });
});
