import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, type SyncEngine } from '../../server/src/sync/index.js';
import { allBytes, engine, readTree, sameFile, tmpDir, waitFor, writeTree } from './helpers.js';

const engines: SyncEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

describe('three peers: read-write, read-only, encrypted', () => {
  it('sync small and large files; encrypted peer holds no plaintext; read-only syncs from encrypted alone', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const rwDir = path.join(root, 'rw');
    const small: Record<string, string> = {
      'hello.txt': 'hello burrow secret-content-marker-1',
      'docs/notes-secret-name.md': 'notes secret-content-marker-2\n'.repeat(100),
      'docs/deep/a/b/c.txt': 'deep secret-content-marker-3',
      'empty.bin': '',
    };
    await writeTree(rwDir, small);
    // large files: 40 MiB of random data plus a sparse 1 GiB file (the issue asks for at least 1 GiB)
    const big = crypto.randomBytes(40 * 1024 * 1024);
    await fs.promises.writeFile(path.join(rwDir, 'big.bin'), big);
    const fh = await fs.promises.open(path.join(rwDir, 'sparse-large.img'), 'w');
    await fh.truncate(1024 * 1024 * 1024);
    await fh.write(Buffer.from('sparse secret-content-marker-4'), 0, 30, 100 * 1024 * 1024);
    await fh.close();

    const rw = await engine(root, 'rw');
    engines.push(rw);
    await rw.addFolder({ id: 'f', path: rwDir, secret: s.readWrite, mode: 'send-receive' });

    const enc = await engine(root, 'enc', { knownHosts: [`127.0.0.1:${rw.port}`] });
    engines.push(enc);
    const encDir = path.join(root, 'enc');
    await enc.addFolder({ id: 'f', path: encDir, secret: s.encrypted, mode: 'encrypted-storage' });

    const ro = await engine(root, 'ro', { knownHosts: [`127.0.0.1:${rw.port}`] });
    engines.push(ro);
    const roDir = path.join(root, 'ro');
    await ro.addFolder({ id: 'f', path: roDir, secret: s.readOnly, mode: 'receive-only' });

    // Hashing the 1 GiB sparse file alone takes ~30 s when two test files share 2 loaded cores.
    await waitFor(() => ro.progress('f').inSync && ro.listFiles('f').length === 6, 100_000, 'ro in sync');
    await waitFor(async () => (await sameFile(path.join(rwDir, 'sparse-large.img'), path.join(roDir, 'sparse-large.img'))) && (await sameFile(path.join(rwDir, 'big.bin'), path.join(roDir, 'big.bin'))), 50_000, 'ro to get the large files');
    await waitFor(async () => (await readTree(roDir).catch(() => ({} as Record<string, string>)))['docs/deep/a/b/c.txt'] === small['docs/deep/a/b/c.txt'], 20_000, 'small files');
    const tree = await readTree(roDir);
    for (const [k, v] of Object.entries(small)) expect(tree[k]).toBe(v);
    await waitFor(() => enc.progress('f').inSync && enc.listFiles('f').length === 6, 30_000, 'encrypted peer');
    // peer exchange: the read-only and encrypted peers found each other through the read-write peer
    await waitFor(() => ro.listPeers('f').length === 2 && enc.listPeers('f').length === 2, 10_000, 'peer exchange');
    const peers = rw.listPeers('f');
    expect(peers.map((p) => p.level).sort()).toEqual(['enc', 'ro']);

    // The encrypted peer's disk (storage and state) holds no plaintext names or content.
    await rw.close();
    await enc.close();
    engines.length = 0;
    engines.push(ro);
    const markers = ['secret-content-marker', 'notes-secret-name', 'hello.txt', 'docs/deep', 'sparse-large', 'big.bin'];
    const encFiles = [...(await allBytes(encDir)), ...(await allBytes(path.join(root, 'enc-state')))];
    expect(encFiles.length).toBeGreaterThan(5);
    const bigProbe = big.subarray(5 * 1024 * 1024, 5 * 1024 * 1024 + 64);
    for (const { file, data } of encFiles) {
      for (const m of markers) expect(data.includes(m), `${m} in ${file}`).toBe(false);
      expect(file.includes('secret') || file.includes('hello')).toBe(false);
      expect(data.includes(bigProbe)).toBe(false);
    }

    // A fresh read-only peer syncs from the encrypted peer alone.
    await ro.close();
    engines.length = 0;
    const enc2 = await engine(root, 'enc'); // same state dir and storage as before
    engines.push(enc2);
    await enc2.addFolder({ id: 'f', path: encDir, secret: s.encrypted, mode: 'encrypted-storage' });
    const ro2 = await engine(root, 'ro2', { knownHosts: [`127.0.0.1:${enc2.port}`] });
    engines.push(ro2);
    const ro2Dir = path.join(root, 'ro2');
    await ro2.addFolder({ id: 'f', path: ro2Dir, secret: s.readOnly, mode: 'receive-only' });
    await waitFor(() => ro2.progress('f').inSync && ro2.listFiles('f').length === 6, 50_000, 'ro2 in sync');
    await waitFor(async () => sameFile(path.join(rwDir, 'big.bin'), path.join(ro2Dir, 'big.bin')), 40_000, 'ro2 big file from encrypted peer');
    await waitFor(async () => sameFile(path.join(rwDir, 'sparse-large.img'), path.join(ro2Dir, 'sparse-large.img')), 40_000, 'ro2 sparse file');
    const tree2 = await readTree(ro2Dir);
    for (const [k, v] of Object.entries(small)) expect(tree2[k]).toBe(v);
  }, 240_000);
});
