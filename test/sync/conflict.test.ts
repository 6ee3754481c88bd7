import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, type SyncEngine } from '../../server/src/sync/index.js';
import { MsgType } from '../../server/src/sync/protocol/index.js';
import { engine, readTree, tmpDir, waitFor, writeTree } from './helpers.js';
import { craftRecord, rawPeer } from './malicious-peer.js';

/**
 * Issue 12, safety 1: two read-write peers edit one file while apart. Whichever
 * of them learns of the conflict first, with or without restarts in between,
 * every peer must end with the winner's content and the loser's edit as a
 * conflict copy. C is a read-only relay, so the order of learning is ours.
 */
const engines: SyncEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});
const tree = (d: string): Promise<Record<string, string>> => readTree(d).catch(() => ({}) as Record<string, string>);
const conflictWith = (t: Record<string, string>, content: string): boolean =>
  Object.entries(t).some(([k, v]) => /^doc\.sync-conflict-\d{8}-\d{6}-[0-9A-F]{7}(-\d+)?\.txt$/.test(k) && v === content);

async function run(order: 'winner-learns-first' | 'loser-learns-first', restarts: boolean): Promise<void> {
  const root = await tmpDir();
  const s = newFolderSecrets();
  const dirs = { a: path.join(root, 'a'), b: path.join(root, 'b'), c: path.join(root, 'c') };
  await writeTree(dirs.a, { 'doc.txt': 'base' });
  const c = await engine(root, 'c');
  engines.push(c);
  await c.addFolder({ id: 'f', path: dirs.c, secret: s.readOnly, mode: 'receive-only' });
  let baseVersion = '';
  const version = (e: SyncEngine): string | undefined => e.listFiles('f').find((x) => x.path === 'doc.txt')?.version;
  const start = async (name: 'a' | 'b'): Promise<SyncEngine> => {
    const e = await engine(root, name);
    engines.push(e);
    await e.addFolder({ id: 'f', path: dirs[name], secret: s.readWrite, mode: 'send-receive' });
    // Its own edit is scanned and signed before it meets anyone.
    if (baseVersion) await waitFor(() => !!version(e) && version(e) !== baseVersion, 10_000, `${name} scanned its edit`);
    return e;
  };
  const stop = async (e: SyncEngine): Promise<void> => {
    engines.splice(engines.indexOf(e), 1);
    await e.close();
  };
  let a = await start('a');
  let b = await start('b');
  a.addPeer('f', `127.0.0.1:${c.port}`);
  b.addPeer('f', `127.0.0.1:${c.port}`);
  await waitFor(async () => (await tree(dirs.b))['doc.txt'] === 'base' && (await tree(dirs.c))['doc.txt'] === 'base', 15_000, 'base everywhere');

  baseVersion = version(c)!;
  // Apart: each edits doc.txt; A's edit is later, so A wins the conflict.
  await stop(a);
  await stop(b);
  await fs.promises.writeFile(path.join(dirs.a, 'doc.txt'), 'edit on A');
  await fs.promises.writeFile(path.join(dirs.b, 'doc.txt'), 'edit on B');
  const t = Date.now() / 1000;
  await fs.promises.utimes(path.join(dirs.b, 'doc.txt'), t - 100, t - 100);
  await fs.promises.utimes(path.join(dirs.a, 'doc.txt'), t - 10, t - 10);

  // The first one reaches C alone; then the second one learns of it through C.
  const [firstName, secondName] = order === 'winner-learns-first' ? (['b', 'a'] as const) : (['a', 'b'] as const);
  const first = await start(firstName);
  first.addPeer('f', `127.0.0.1:${c.port}`);
  const firstContent = firstName === 'a' ? 'edit on A' : 'edit on B';
  await waitFor(async () => (await tree(dirs.c))['doc.txt'] === firstContent, 15_000, 'C has the first edit');
  if (restarts) await stop(first);
  const second = await start(secondName);
  // Without restarts the second peer reaches only C; with them it also runs alone for a while.
  second.addPeer('f', `127.0.0.1:${c.port}`);
  await waitFor(async () => (await tree(dirs.c))['doc.txt'] === 'edit on A', 15_000, 'C has the winner');
  if (restarts) {
    await stop(second);
    if (secondName === 'a') a = await start('a');
    else b = await start('b');
    const again = await start(firstName);
    again.addPeer('f', `127.0.0.1:${c.port}`);
    (secondName === 'a' ? a : b).addPeer('f', `127.0.0.1:${c.port}`);
  }
  let last = '';
  await waitFor(
    async () => {
      last = JSON.stringify({ a: await tree(dirs.a), b: await tree(dirs.b), c: await tree(dirs.c) });
      for (const d of Object.values(dirs)) {
        const x = await tree(d);
        if (x['doc.txt'] !== 'edit on A' || !conflictWith(x, 'edit on B')) return false;
      }
      return true;
    },
    20_000,
    `${order}${restarts ? " with restarts" : ""}: both versions on every peer`,
  ).catch((e: Error) => {
    throw new Error(e.message + ' ' + last);
  });
  for (const d of Object.values(dirs)) expect(Object.values(await tree(d))).toContain('edit on B');
}

describe('conflicts never lose an edit', () => {
  it('the winner learns of the conflict first', () => run('winner-learns-first', false), 60_000);
  it('the loser learns of the conflict first', () => run('loser-learns-first', false), 60_000);
  it('the winner learns first, with restarts in between', () => run('winner-learns-first', true), 60_000);
  it('the loser learns first, with restarts in between', () => run('loser-learns-first', true), 60_000);
});

describe('a remote version that arrives while the local edit is still being scanned', () => {
  it('is decided against the scanned edit, not the older entry: the edit is kept as a conflict copy', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const B = path.join(root, 'b');
    await writeTree(B, { 'z/doc.txt': 'base' });
    let b = await engine(root, 'b');
    engines.push(b);
    await b.addFolder({ id: 'f', path: B, secret: s.readWrite, mode: 'send-receive' });
    // Learn the base record's version vector the way any member can: from the index.
    const spy = await rawPeer(b.port, s.readWrite);
    const withRecords = (m: (typeof spy.msgs)[number]): boolean => (m.type === MsgType.Index || m.type === MsgType.IndexUpdate) && m.records.length > 0;
    await waitFor(() => spy.msgs.some(withRecords), 10_000, 'index');
    const idx = spy.msgs.find(withRecords) as { records: Array<{ body: Buffer }> };
    const baseVv = (JSON.parse(idx.records[0]!.body.toString()) as { vv: Array<[string, number]> }).vv;
    spy.conn.destroy();
    engines.splice(engines.indexOf(b), 1);
    await b.close();

    // Offline: an edit, and four large files that the scan hashes first (they sit at the root).
    await fs.promises.writeFile(path.join(B, 'z/doc.txt'), 'edit on B');
    for (let i = 0; i < 4; i++) {
      const fh = await fs.promises.open(path.join(B, `big${i}.bin`), 'w');
      await fh.truncate(96 * 1024 * 1024);
      await fh.close();
    }
    b = await engine(root, 'b');
    engines.push(b);
    b.on('error', () => undefined);
    await b.addFolder({ id: 'f', path: B, secret: s.readWrite, mode: 'send-receive' });
    // A newer remote version, concurrent with the edit (which is not scanned yet).
    const remote = craftRecord(s.readWrite, { path: 'z/doc.txt', content: Buffer.from('remote edit'), vv: [...baseVv, ['ffffffffffffffff', 1]], mtime: Date.now() + 60_000 });
    const peer = await rawPeer(b.port, s.readWrite);
    peer.serve([remote]);
    peer.sendIndex([remote]);
    const scannedBeforeRemote = b.listFiles('f').length > 1;
    await waitFor(async () => {
      const t = await tree(B);
      return t['z/doc.txt'] === 'remote edit' && Object.entries(t).some(([k, v]) => k.startsWith('z/doc.sync-conflict-') && v === 'edit on B');
    }, 30_000, 'the remote version in place and the edit kept aside');
    peer.conn.destroy();
    expect(scannedBeforeRemote).toBe(false); // the race really happened
  }, 60_000);
});
