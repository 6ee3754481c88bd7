import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, type SyncEngine } from '../../server/src/sync/index.js';
import { engine, readTree, tmpDir, waitFor, writeTree } from './helpers.js';
import { craftRecord, rawPeer } from './malicious-peer.js';

/** Issue 12, safety 3, 4 and 8 (files): what records from a member can do to a peer's disk. */
const engines: SyncEngine[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(engines.splice(0).map((e) => e.close()));
});
const tree = (d: string): Promise<Record<string, string>> => readTree(d).catch(() => ({}) as Record<string, string>);

describe('modes from the network', () => {
  it('applies only permission bits and never makes a file unreadable to its owner', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const B = path.join(root, 'b');
    const b = await engine(root, 'b');
    engines.push(b);
    b.on('error', () => undefined);
    await b.addFolder({ id: 'f', path: B, secret: s.readWrite, mode: 'send-receive' });
    const peer = await rawPeer(b.port, s.readWrite);
    cleanups.push(() => peer.conn.destroy());
    const recs = [
      craftRecord(s.readWrite, { path: 'suid.sh', content: Buffer.from('#!/bin/sh\n'), vv: [['aaaaaaaaaaaaaaaa', 1]], mode: 0o6777 }),
      craftRecord(s.readWrite, { path: 'sticky.txt', content: Buffer.from('x'), vv: [['aaaaaaaaaaaaaaaa', 1]], mode: 0o1644 }),
      craftRecord(s.readWrite, { path: 'zero.txt', content: Buffer.from('secret of mine'), vv: [['aaaaaaaaaaaaaaaa', 1]], mode: 0 }),
      craftRecord(s.readWrite, { path: 'big-zero.bin', content: Buffer.alloc(300 * 1024, 5), vv: [['aaaaaaaaaaaaaaaa', 1]], mode: 0o4000 }),
    ];
    peer.serve(recs);
    peer.sendIndex(recs);
    const mode = (f: string): number | undefined => fs.statSync(path.join(B, f), { throwIfNoEntry: false })?.mode;
    await waitFor(() => ['suid.sh', 'sticky.txt', 'zero.txt', 'big-zero.bin'].every((f) => mode(f) !== undefined), 10_000, 'files received');
    expect((mode('suid.sh')! & 0o7777).toString(8)).toBe('777');
    expect((mode('sticky.txt')! & 0o7777).toString(8)).toBe('644');
    expect((mode('zero.txt')! & 0o7777).toString(8)).toBe('600');
    expect((mode('big-zero.bin')! & 0o7777).toString(8)).toBe('600');
    expect(fs.readFileSync(path.join(B, 'zero.txt'), 'utf8')).toBe('secret of mine');
  });
});

describe('.burrow-sync below the root is ordinary content', () => {
  it('a watcher rescan of a subfolder keeps (and publishes) files under its .burrow-sync', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const A = path.join(root, 'a');
    const B = path.join(root, 'b');
    await writeTree(A, { 'sub/.burrow-sync/keep.txt': 'mine', 'sub/other.txt': 'o' });
    const a = await engine(root, 'a', { watch: true });
    engines.push(a);
    await a.addFolder({ id: 'f', path: A, secret: s.readWrite, mode: 'send-receive' });
    const b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(b);
    await b.addFolder({ id: 'f', path: B, secret: s.readWrite, mode: 'send-receive' });
    await waitFor(async () => (await tree(B))['sub/.burrow-sync/keep.txt'] === 'mine', 10_000, 'initial sync');
    // A new file in it, seen through the watcher only.
    await fs.promises.writeFile(path.join(A, 'sub/.burrow-sync/new.txt'), 'new');
    await waitFor(async () => (await tree(B))['sub/.burrow-sync/new.txt'] === 'new', 15_000, 'a new file under sub/.burrow-sync');
    // A folder move: the watcher reports the new folder, which is rescanned on its own.
    await fs.promises.rename(path.join(A, 'sub'), path.join(A, 'moved'));
    await waitFor(async () => {
      const t = await tree(B);
      return t['moved/.burrow-sync/keep.txt'] === 'mine' && t['moved/.burrow-sync/new.txt'] === 'new' && t['moved/other.txt'] === 'o' && !('sub/other.txt' in t);
    }, 15_000, 'the move, .burrow-sync content included');
    expect((await tree(A))['moved/.burrow-sync/keep.txt']).toBe('mine');
    expect(a.listFiles('f').find((x) => x.path === 'moved/.burrow-sync/keep.txt')?.deleted).toBe(false);
  });
});

describe('names too long for the file system', () => {
  it('fail once, visibly, and do not stop the rest', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const B = path.join(root, 'b');
    const b = await engine(root, 'b');
    engines.push(b);
    const errors: Array<{ at: number; message: string }> = [];
    b.on('error', (e) => errors.push({ at: Date.now(), message: e.error.message }));
    await b.addFolder({ id: 'f', path: B, secret: s.readWrite, mode: 'send-receive' });
    const peer = await rawPeer(b.port, s.readWrite);
    cleanups.push(() => peer.conn.destroy());
    const long = craftRecord(s.readWrite, { path: 'dir/' + 'n'.repeat(300) + '.txt', content: Buffer.from('long'), vv: [['aaaaaaaaaaaaaaaa', 1]] });
    const ok = craftRecord(s.readWrite, { path: 'ok.txt', content: Buffer.from('fine'), vv: [['aaaaaaaaaaaaaaaa', 1]] });
    peer.serve([long, ok]);
    peer.sendIndex([long, ok]);
    await waitFor(async () => (await tree(B))['ok.txt'] === 'fine' && errors.length > 0, 10_000, 'ok.txt and an error');
    const t0 = errors[0]!.at;
    await waitFor(() => Date.now() - t0 > 3500, 5000, 'time for retries to show');
    expect(errors.length).toBe(1);
    expect(errors[0]!.message).toMatch(/255/);
    await waitFor(() => b.progress('f').inSync, 5000, 'in sync despite the refused name');
  });
});

describe('receive-only folders: local changes', () => {
  it('are reported, never sent, never stall a fresh peer, and revert restores the published version', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const dirs = { a: path.join(root, 'a'), r: path.join(root, 'r'), f: path.join(root, 'f') };
    await writeTree(dirs.a, { 'a.txt': 'published', 'b.txt': 'also published' });
    let a = await engine(root, 'a');
    engines.push(a);
    await a.addFolder({ id: 'f', path: dirs.a, secret: s.readWrite, mode: 'send-receive' });
    const r = await engine(root, 'r', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(r);
    r.on('error', () => undefined);
    await r.addFolder({ id: 'f', path: dirs.r, secret: s.readOnly, mode: 'receive-only' });
    await waitFor(async () => (await tree(dirs.r))['b.txt'] === 'also published' && r.progress('f').inSync, 10_000, 'r in sync');

    await fs.promises.writeFile(path.join(dirs.r, 'a.txt'), 'edited on the read-only peer');
    await fs.promises.writeFile(path.join(dirs.r, 'extra.txt'), 'added on the read-only peer');
    expect(await r.localChanges('f')).toEqual([
      { path: 'a.txt', change: 'modified' },
      { path: 'extra.txt', change: 'added' },
    ]);

    // The publisher goes away; a fresh peer only has the read-only one.
    engines.splice(engines.indexOf(a), 1);
    await a.close();
    const f = await engine(root, 'f', { knownHosts: [`127.0.0.1:${r.port}`] });
    engines.push(f);
    f.on('error', () => undefined);
    await f.addFolder({ id: 'f', path: dirs.f, secret: s.readOnly, mode: 'receive-only' });
    await waitFor(async () => (await tree(dirs.f))['b.txt'] === 'also published' && f.progress('f').inSync, 15_000, 'the fresh peer not stalled');
    const tf = await tree(dirs.f);
    expect(tf['a.txt']).toBeUndefined(); // never the read-only peer's edit
    expect(tf['extra.txt']).toBeUndefined();

    // Revert, with the publisher back: the published version returns, the added file goes.
    a = await engine(root, 'a');
    engines.push(a);
    await a.addFolder({ id: 'f', path: dirs.a, secret: s.readWrite, mode: 'send-receive' });
    r.addPeer('f', `127.0.0.1:${a.port}`);
    await waitFor(() => r.listPeers('f').some((p) => p.device === a.device), 10_000, 'r reconnected');
    const reverted = await r.revert('f');
    expect(reverted.map((c) => c.path)).toEqual(['a.txt', 'extra.txt']);
    await waitFor(async () => {
      const t = await tree(dirs.r);
      return t['a.txt'] === 'published' && !('extra.txt' in t);
    }, 10_000, 'reverted');
    expect(await r.localChanges('f')).toEqual([]);
    expect((await tree(dirs.a))['a.txt']).toBe('published');
  });
});
