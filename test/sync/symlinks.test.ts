import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, type SyncEngine } from '../../server/src/sync/index.js';
import { engine, readTree, tmpDir, waitFor, writeTree } from './helpers.js';
import { craftRecord, rawPeer } from './malicious-peer.js';

/**
 * Issue 12, safety 2: `link -> /outside` inside a peer's folder. Records naming
 * `link/...` must never make an honest read-write peer or a read-only peer
 * create, overwrite, rename or delete anything outside, nor publish an outside file.
 */
const engines: SyncEngine[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function setup(mode: 'send-receive' | 'receive-only') {
  const root = await tmpDir();
  const s = newFolderSecrets();
  const outside = path.join(root, 'outside');
  const dir = path.join(root, 'peer');
  await writeTree(outside, { 'existing.txt': 'outside, keep me', 'victim.txt': 'outside, do not delete', 'secret.txt': 'outside secret' });
  await writeTree(dir, { 'own.txt': 'mine' });
  fs.symlinkSync(outside, path.join(dir, 'link'));
  fs.mkdirSync(path.join(dir, 'deep'));
  fs.symlinkSync(outside, path.join(dir, 'deep', 'link2'));
  const e = await engine(root, 'peer');
  engines.push(e);
  const errors: string[] = [];
  e.on('error', (x) => errors.push(x.error.message));
  await e.addFolder({ id: 'f', path: dir, secret: mode === 'send-receive' ? s.readWrite : s.readOnly, mode });
  const attacker = await rawPeer(e.port, s.readWrite);
  cleanups.push(() => attacker.conn.destroy());
  return { s, e, errors, attacker, outside, dir };
}

const snapshot = async (d: string): Promise<Record<string, string>> => readTree(d);

describe('symlinked folders inside a synced folder are never followed', () => {
  for (const mode of ['send-receive', 'receive-only'] as const) {
    it(`${mode}: records under a symlinked folder neither write, overwrite, rename nor delete outside`, async () => {
      const { s, e, errors, attacker, outside, dir } = await setup(mode);
      const before = await snapshot(outside);
      const vv: Array<[string, number]> = [['aaaaaaaaaaaaaaaa', 5]];
      const recs = [
        craftRecord(s.readWrite, { path: 'link/new.txt', content: Buffer.from('planted'), vv }),
        craftRecord(s.readWrite, { path: 'link/existing.txt', content: Buffer.from('overwritten'), vv }),
        craftRecord(s.readWrite, { path: 'deep/link2/new2.txt', content: Buffer.from('planted deeper'), vv }),
        craftRecord(s.readWrite, { path: 'link/secret.txt', content: Buffer.from('newer, wins'), vv, mtime: Date.now() + 3_600_000 }),
        craftRecord(s.readWrite, { path: 'link/victim.txt', vv, del: true }),
        craftRecord(s.readWrite, { path: 'ok.txt', content: Buffer.from('fine'), vv }),
      ];
      attacker.serve(recs);
      attacker.sendIndex(recs);
      const read = (f: string): string | null => {
        try {
          return fs.readFileSync(f, 'utf8');
        } catch {
          return null;
        }
      };
      await waitFor(() => read(path.join(dir, 'ok.txt')) === 'fine', 10_000, 'ok.txt');
      // Either the five refusals come, or something outside changed (what the engine did before).
      await waitFor(
        async () => errors.filter((m) => /symbolic link/.test(m)).length >= 5 || JSON.stringify(await snapshot(outside)) !== JSON.stringify(before),
        10_000,
        'refusals or damage',
      );
      expect(await snapshot(outside)).toEqual(before);
      expect(errors.filter((m) => /symbolic link/.test(m)).length).toBe(5);
      await e.rescan('f');
      expect(await snapshot(outside)).toEqual(before);
      // Nothing from outside was published (no conflict copy of secret.txt, no outside file).
      const published = e.listFiles('f').filter((x) => !x.deleted).map((x) => x.path);
      expect(published.filter((p) => p?.startsWith('link/') || p?.startsWith('deep/link2/'))).toEqual([]);
      for (const p of published) expect(p).not.toMatch(/secret/);
    });
  }
});
