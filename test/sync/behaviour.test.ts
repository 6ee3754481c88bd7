import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, type FileEvent, type SyncEngine } from '../../server/src/sync/index.js';
import { engine, readTree, sameFile, tmpDir, waitFor, writeTree } from './helpers.js';

const engines: SyncEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

const tree = (d: string): Promise<Record<string, string>> => readTree(d).catch(() => ({}) as Record<string, string>);

describe('sync behaviour', () => {
  it('propagates edits, deletions, renames (copied locally) and keeps both sides of a conflict', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const A = path.join(root, 'a');
    const B = path.join(root, 'b');
    const big = crypto.randomBytes(6 * 1024 * 1024);
    await writeTree(A, { 'doc.txt': 'v1', 'gone.txt': 'bye', 'dir/big.bin': big });
    const a = await engine(root, 'a');
    engines.push(a);
    await a.addFolder({ id: 'f', path: A, secret: s.readWrite, mode: 'send-receive' });
    const b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(b);
    const changed: FileEvent[] = [];
    b.on('fileChanged', (e) => changed.push(e));
    await b.addFolder({ id: 'f', path: B, secret: s.readWrite, mode: 'send-receive' });
    await waitFor(async () => sameFile(path.join(A, 'dir/big.bin'), path.join(B, 'dir/big.bin')), 15_000, 'initial');
    expect(changed.map((e) => e.path).sort()).toEqual(['dir/big.bin', 'doc.txt', 'gone.txt']);
    const inodeBefore = fs.statSync(path.join(B, 'doc.txt')).ino;

    // edit + delete + rename on A
    const before = b.progress('f').bytesDone;
    await fs.promises.writeFile(path.join(A, 'doc.txt'), 'v2');
    await fs.promises.unlink(path.join(A, 'gone.txt'));
    await fs.promises.rename(path.join(A, 'dir/big.bin'), path.join(A, 'moved.bin'));
    await a.rescan('f');
    await waitFor(async () => {
      const t = await tree(B);
      return t['doc.txt'] === 'v2' && !('gone.txt' in t) && 'moved.bin' in t && !('dir/big.bin' in t);
    }, 15_000, 'edit/delete/rename');
    expect(await sameFile(path.join(A, 'moved.bin'), path.join(B, 'moved.bin'))).toBe(true);
    // the rename cost (almost) no network bytes: blocks were copied locally
    expect(b.progress('f').bytesDone - before).toBeLessThan(1024);
    // a received file is a new inode (never written in place: hard links elsewhere stay intact)
    expect(fs.statSync(path.join(B, 'doc.txt')).ino).not.toBe(inodeBefore);

    // concurrent edits while apart: both versions survive
    await b.close();
    engines.splice(engines.indexOf(b), 1);
    await fs.promises.writeFile(path.join(A, 'doc.txt'), 'edit on A');
    await a.rescan('f');
    await new Promise((r) => setTimeout(r, 1100));
    await fs.promises.writeFile(path.join(B, 'doc.txt'), 'edit on B (newer)');
    const b2 = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(b2);
    await b2.addFolder({ id: 'f', path: B, secret: s.readWrite, mode: 'send-receive' });
    const conflictOf = (t: Record<string, string>): string | undefined => Object.keys(t).find((k) => /^doc\.sync-conflict-\d{8}-\d{6}-[0-9A-F]{7}\.txt$/.test(k));
    await waitFor(async () => {
      const ta = await tree(A);
      const tb = await tree(B);
      const ca = conflictOf(ta);
      const cb = conflictOf(tb);
      return ta['doc.txt'] === 'edit on B (newer)' && tb['doc.txt'] === 'edit on B (newer)' && !!ca && !!cb && ta[ca] === 'edit on A' && tb[cb] === 'edit on A';
    }, 20_000, 'conflict resolution on both sides');
  });

  it('resumes an interrupted transfer without starting over', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const A = path.join(root, 'a');
    const B = path.join(root, 'b');
    const size = 96 * 1024 * 1024;
    await fs.promises.mkdir(A, { recursive: true });
    await fs.promises.writeFile(path.join(A, 'large.bin'), crypto.randomBytes(size));
    const a = await engine(root, 'a');
    engines.push(a);
    await a.addFolder({ id: 'f', path: A, secret: s.readWrite, mode: 'send-receive' });
    let b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
    await b.addFolder({ id: 'f', path: B, secret: s.readOnly, mode: 'receive-only' });
    const t0 = Date.now();
    for (;;) {
      if (b.progress('f').bytesDone >= 8 * 1024 * 1024) break;
      if (Date.now() - t0 > 20_000) throw new Error('no progress');
      await new Promise((r) => setTimeout(r, 2));
    }
    await b.close(); // cut
    const firstRun = fs.readdirSync(path.join(B, '.burrow-sync', 'tmp'));
    expect(firstRun.some((f) => f.endsWith('.part'))).toBe(true);
    expect(fs.existsSync(path.join(B, 'large.bin'))).toBe(false);
    const prog = firstRun.find((f) => f.endsWith('.json'))!;
    const done = (JSON.parse(fs.readFileSync(path.join(B, '.burrow-sync', 'tmp', prog), 'utf8')) as { done: number[] }).done.length;
    expect(done).toBeGreaterThan(0);

    b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(b);
    await b.addFolder({ id: 'f', path: B, secret: s.readOnly, mode: 'receive-only' });
    await waitFor(async () => b.progress('f').inSync && (await sameFile(path.join(A, 'large.bin'), path.join(B, 'large.bin'))), 30_000, 'resumed transfer');
    const second = b.progress('f').bytesDone;
    // the second run fetched only what was missing
    expect(second).toBeLessThanOrEqual(size - done * 64 * 1024);
    expect(fs.readdirSync(path.join(B, '.burrow-sync', 'tmp')).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('removeFolder stops serving at once: no new bytes reach a peer', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const A = path.join(root, 'a');
    const B = path.join(root, 'b');
    const size = 128 * 1024 * 1024;
    await fs.promises.mkdir(A, { recursive: true });
    await fs.promises.writeFile(path.join(A, 'movie.bin'), crypto.randomBytes(size));
    const a = await engine(root, 'a');
    engines.push(a);
    await a.addFolder({ id: 'share', path: A, secret: s.readWrite, mode: 'send-receive' });
    const b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(b);
    b.on('error', () => undefined);
    await b.addFolder({ id: 'f', path: B, secret: s.readOnly, mode: 'receive-only' });
    const t0 = Date.now();
    while (b.progress('f').bytesDone < 4 * 1024 * 1024) {
      if (Date.now() - t0 > 20_000) throw new Error('no progress');
      await new Promise((r) => setTimeout(r, 2));
    }
    await a.removeFolder('share'); // revoke
    expect(a.listPeers().length).toBe(0);
    await new Promise((r) => setTimeout(r, 200)); // bytes already on the wire may land
    const atRevoke = b.progress('f').bytesDone;
    await writeTree(A, { 'after-revoke.txt': 'must not arrive' });
    await new Promise((r) => setTimeout(r, 2000));
    expect(b.progress('f').bytesDone).toBe(atRevoke);
    expect(atRevoke).toBeLessThan(size);
    expect(fs.existsSync(path.join(B, 'movie.bin'))).toBe(false);
    expect(fs.existsSync(path.join(B, 'after-revoke.txt'))).toBe(false);
    expect(b.listPeers().length).toBe(0);
  });

  it('finds peers over a bittorrent-dht network on loopback', async () => {
    const { default: DHT } = await import('bittorrent-dht');
    const root = await tmpDir();
    const s = newFolderSecrets();
    const boot = new DHT({ bootstrap: false });
    await new Promise<void>((r) => boot.listen(0, '127.0.0.1', () => r()));
    const bootAddr = `127.0.0.1:${boot.address().port}`;
    try {
      await writeTree(path.join(root, 'a'), { 'found-via-dht.txt': 'dht works' });
      const a = await engine(root, 'a', { dht: { bootstrap: [bootAddr], host: '127.0.0.1', intervalMs: 300 } });
      engines.push(a);
      await a.addFolder({ id: 'f', path: path.join(root, 'a'), secret: s.readWrite, mode: 'send-receive' });
      const b = await engine(root, 'b', { dht: { bootstrap: [bootAddr], host: '127.0.0.1', intervalMs: 300 } });
      engines.push(b);
      await b.addFolder({ id: 'f', path: path.join(root, 'b'), secret: s.readOnly, mode: 'receive-only' });
      await waitFor(async () => (await tree(path.join(root, 'b')))['found-via-dht.txt'] === 'dht works', 20_000, 'dht discovery');
      expect(b.listPeers('f')[0]?.device).toBe(a.device);
    } finally {
      await new Promise<void>((r) => boot.destroy(() => r()));
    }
  });

  it('pulls from several peers at once', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const data = crypto.randomBytes(48 * 1024 * 1024);
    await writeTree(path.join(root, 'a'), { 'shared.bin': data });
    const a = await engine(root, 'a');
    engines.push(a);
    await a.addFolder({ id: 'f', path: path.join(root, 'a'), secret: s.readWrite, mode: 'send-receive' });
    const e = await engine(root, 'e', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(e);
    await e.addFolder({ id: 'f', path: path.join(root, 'e'), secret: s.encrypted, mode: 'encrypted-storage' });
    await waitFor(() => e.progress('f').inSync && e.listFiles('f').length === 1, 20_000, 'encrypted copy');
    const c = await engine(root, 'c', { knownHosts: [`127.0.0.1:${a.port}`, `127.0.0.1:${e.port}`] });
    engines.push(c);
    await c.addFolder({ id: 'f', path: path.join(root, 'c'), secret: s.readOnly, mode: 'receive-only' });
    await waitFor(async () => sameFile(path.join(root, 'a', 'shared.bin'), path.join(root, 'c', 'shared.bin')), 30_000, 'multi-source');
    const peers = c.listPeers('f');
    expect(peers.length).toBe(2);
    for (const p of peers) expect(p.bytesIn).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('a watching send-receive receiver never republishes (or deletes) what it just received', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const files: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) files[`d${i % 30}/f${i}.txt`] = `content ${i} `.repeat(1 + (i % 50));
    await writeTree(path.join(root, 'a'), files);
    const a = await engine(root, 'a', { watch: true });
    engines.push(a);
    await a.addFolder({ id: 'f', path: path.join(root, 'a'), secret: s.readWrite, mode: 'send-receive' });
    const b = await engine(root, 'b', { watch: true, knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(b);
    await b.addFolder({ id: 'f', path: path.join(root, 'b'), secret: s.readWrite, mode: 'send-receive' });
    await waitFor(() => b.progress('f').inSync && b.listFiles('f').length === 1500, 40_000, 'b in sync');
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.listFiles('f').filter((f) => f.deleted)).toEqual([]);
    expect(b.listFiles('f').filter((f) => f.deleted)).toEqual([]);
    expect(Object.keys(await readTree(path.join(root, 'a'))).length).toBe(1500);
    expect(await readTree(path.join(root, 'b'))).toEqual(files);
    // versions agree: nothing was re-signed by the receiver
    const va = new Map(a.listFiles('f').map((f) => [f.path, f.version]));
    for (const f of b.listFiles('f')) expect(va.get(f.path)).toBe(f.version);
  }, 60_000);
});
