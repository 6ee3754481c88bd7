import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { newFolderSecrets } from '../../server/src/sync/index.js';
import { writeFileAtomic } from '../../server/src/fsutil/atomic-write.js';
import { engine, tmpDir, waitFor } from './helpers.js';

// The several-NAS ledger writes like this: a new folder two levels down and a file in it, then
// the same again elsewhere, a few milliseconds apart. The watcher reports only the new folder
// for some of them; the scan must still find every file in it, long before the hourly reconcile.
describe('the file watcher', () => {
  test('publishes files written into folders made a moment before, nested and in bursts', async () => {
    const root = await tmpDir();
    const dir = path.join(root, 'f');
    fs.mkdirSync(path.join(dir, 'results', 'laptop'), { recursive: true });
    const e = await engine(root, 'a', { watch: true, rescanIntervalMs: undefined });
    try {
      await e.addFolder({ id: 'f', path: dir, secret: newFolderSecrets().readWrite, mode: 'send-receive' });
      const want: string[] = [];
      for (let i = 0; i < 20; i++) {
        for (const kind of ['claims', 'results']) {
          const rel = `${kind}/laptop/req-${i}/member.json`;
          writeFileAtomic(path.join(dir, rel), JSON.stringify({ i, kind }));
          want.push(rel);
        }
        if (i % 3 === 0) await new Promise((r) => setTimeout(r, 5 + i));
      }
      // parcel-bundler/watcher#97: after `mkdir -p`, the inner folders were never watched at all,
      // so a file written there much later was never reported.
      fs.mkdirSync(path.join(dir, 'tree', 'b', 'c'), { recursive: true });
      await new Promise((r) => setTimeout(r, 1500));
      fs.writeFileSync(path.join(dir, 'tree', 'b', 'c', 'late.txt'), 'written long after the folders');
      want.push('tree/b/c/late.txt');
      const published = () => new Set(e.listFiles('f').filter((x) => !x.deleted).map((x) => x.path));
      await waitFor(() => want.every((p) => published().has(p)), 10_000, 'every written file published').catch((err: Error) => {
        throw new Error(`${err.message}; missing: ${want.filter((p) => !published().has(p)).join(', ')}`);
      });
      expect(want.filter((p) => !published().has(p))).toEqual([]);
    } finally {
      await e.close();
    }
  });
});
