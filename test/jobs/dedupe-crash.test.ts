import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initRoot } from '../../server/src/root/open-root.js';
import { tempDir } from '../helpers/tmp.js';
import { burrow } from '../helpers/cli.js';
import { bytes, inode, put, shaList, tempLeftovers } from './fixture.js';

/**
 * kill -9 at every journaled step of a small dedupe (3 replacements in one journal batch), through the real
 * CLI: after each kill every path still has its original content; a plain restart finishes the
 * job, leaves no temp link behind, and the content is still unchanged.
 */
const base = tempDir('burrow-dedupe-crash-');
afterAll(() => base.cleanup());

function scenario(n: number): string {
  const root = path.join(base.dir, `r${n}`);
  initRoot(root);
  const files = path.join(root, 'files');
  const big = bytes('crash', 200_000);
  put(files, 'a/x.bin', big);
  put(files, 'b/x.bin', big);
  put(files, 'c/sub/x.bin', big);
  put(files, 's1.txt', 'small duplicate');
  put(files, 's2.txt', 'small duplicate');
  put(files, 'decoy.bin', bytes('other', 200_000));
  return root;
}

// One batch: journal (1 step), link + rename per path (2 × 3 steps), close (1 step).
const REPLACEMENTS = 3;
const TOTAL_STEPS = 1 + 2 * REPLACEMENTS + 1;

describe('dedupe survives kill -9 at every step', () => {
  it('leaves every path with its original content, and a restart completes without temp files', () => {
    const total = TOTAL_STEPS;
    for (let n = 1; n <= total + 1; n++) {
      const root = scenario(n);
      const before = shaList(root);
      const killed = burrow(['dedupe', '--root', root, '--json'], { env: { BURROW_FAULT_AFTER_STEP: String(n) } });
      if (n <= total) expect(killed.signal, `step ${n}: ${killed.stderr}`).toBe('SIGKILL');
      else expect(killed.status, `step ${n}: ${killed.stderr}`).toBe(0);
      // Every original path still exists with its content; temp links (if any) are the keeper's.
      for (const [p, sum] of before) expect(shaList(root).get(p), `${p} after kill at step ${n}`).toBe(sum);

      const again = burrow(['dedupe', '--root', root, '--json']);
      expect(again.status, again.stderr).toBe(0);
      expect(shaList(root), `content after restart (kill at step ${n})`).toEqual(before);
      expect(tempLeftovers(root), `temp files after restart (kill at step ${n})`).toEqual([]);
      const files = path.join(root, 'files');
      expect(new Set(['a/x.bin', 'b/x.bin', 'c/sub/x.bin'].map((p) => inode(path.join(files, p)))).size).toBe(1);
      expect(inode(path.join(files, 's1.txt'))).toBe(inode(path.join(files, 's2.txt')));
      const report = JSON.parse(again.stdout) as { recovered: number };
      // A kill between journaling and closing the batch leaves its rows open; the restart closes them.
      expect(report.recovered, `step ${n}`).toBe(n < total ? REPLACEMENTS : 0);
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
