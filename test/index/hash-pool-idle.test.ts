import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { Indexer } from '../../server/src/index/indexer.js';
import { createLogger } from '../../server/src/log.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

/**
 * The hashing threads stop once there is nothing to hash for a while (two idle workers were ~25 MB
 * of the NAS's memory for as long as it ran), and start again for the next change.
 */
const t = tempDir('burrow-hash-idle-');
afterAll(() => t.cleanup());

describe('the index hashing threads', () => {
  it('stop when idle and start again when a file changes', async () => {
    initRoot(t.dir);
    fs.writeFileSync(path.join(t.dir, 'files', 'a.txt'), 'first');
    const r = openRoot(t.dir);
    const ix = new Indexer(r.store, r.layout, { ...r.config.index, hashWorkers: 2, watch: false, hash: true, hashPoolIdleMs: 300 }, createLogger('silent'));
    try {
      await ix.open();
      await ix.hashIdle();
      expect(r.store.contents.pendingFull(0, 10)).toEqual([]);
      await waitFor(() => ix.hashThreads === 0, 5000);
      fs.writeFileSync(path.join(t.dir, 'files', 'b.txt'), 'second');
      ix.refresh([path.join(t.dir, 'files', 'b.txt')]);
      expect(ix.hashThreads).toBe(2);
      await ix.hashIdle();
      expect(r.store.contents.pendingFull(0, 10)).toEqual([]);
      await waitFor(() => ix.hashThreads === 0, 5000);
    } finally {
      await ix.close();
      r.close();
    }
  });
});
