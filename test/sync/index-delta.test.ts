import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, type SyncEngine } from '../../server/src/sync/index.js';
import { engine, tmpDir, waitFor } from './helpers.js';

const engines: SyncEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

// 4,000 files show the delta as well as 10,000 did, in a third of the suite's time; `npm run
// bench:sync` measures the restart of a 10,000-file folder against Syncthing.
const FILES = 4_000;

async function makeFiles(dir: string): Promise<void> {
  for (let d = 0; d < FILES / 100; d++) {
    const sub = path.join(dir, `d${d}`);
    await fs.promises.mkdir(sub, { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, i) => fs.promises.writeFile(path.join(sub, `f${i}.txt`), `file ${d}/${i} `.padEnd(100, 'x'))));
  }
}

/** Bytes both ways on the receiver's connections for folder f. */
function traffic(e: SyncEngine): number {
  return e.listPeers('f').reduce((a, p) => a + p.bytesIn + p.bytesOut, 0);
}

/**
 * A sender `a` serving folder f from A, and `open()` that starts a fresh receiver engine on B
 * (dialling a directly), as a restart would: each call is a new process's engine.
 */
async function senderAndReceiver(root: string, A: string, B: string, receiver: 'read-write' | 'read-only'): Promise<{ a: SyncEngine; open: () => Promise<SyncEngine> }> {
  const s = newFolderSecrets();
  const a = await engine(root, 'a');
  engines.push(a);
  await a.addFolder({ id: 'f', path: A, secret: s.readWrite, mode: 'send-receive' });
  const open = async (): Promise<SyncEngine> => {
    const b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(b);
    await b.addFolder(receiver === 'read-write' ? { id: 'f', path: B, secret: s.readWrite, mode: 'send-receive' } : { id: 'f', path: B, secret: s.readOnly, mode: 'receive-only' });
    return b;
  };
  return { a, open };
}

describe('index deltas on reconnect', () => {
  it('a restarted receiver with 4,000 files in sync exchanges a small fraction of the index and is in sync within 5 s', async () => {
    const root = await tmpDir();
    const A = path.join(root, 'a');
    const B = path.join(root, 'b');
    await makeFiles(A);
    const { a, open } = await senderAndReceiver(root, A, B, 'read-write');
    const b = await open();
    await waitFor(() => b.progress('f').inSync && a.progress('f').inSync, 100_000, 'first sync');
    expect(b.listFiles('f').filter((x) => !x.deleted)).toHaveLength(FILES);
    // A full index, for comparison: what every reconnect cost before deltas.
    const first = traffic(b);
    expect(first).toBeGreaterThan(FILES * 100);
    await b.close();
    engines.splice(engines.indexOf(b), 1);

    // One file changes while the receiver is down: the delta must carry it.
    await fs.promises.writeFile(path.join(A, 'd0/f0.txt'), 'changed while b was away');
    await a.rescan('f');
    const t0 = Date.now();
    const b2 = await open();
    await waitFor(async () => b2.progress('f').inSync && (await fs.promises.readFile(path.join(B, 'd0/f0.txt'), 'utf8')) === 'changed while b was away', 20_000, 'in sync again');
    const took = Date.now() - t0;
    const again = traffic(b2);
    expect(again).toBeLessThan(first / 20);
    expect(took).toBeLessThan(5000);
  }, 150_000);

  it('a receiver whose state was reset gets the whole index again (a new index id)', async () => {
    const root = await tmpDir();
    const A = path.join(root, 'a');
    const B = path.join(root, 'b');
    await fs.promises.mkdir(A, { recursive: true });
    for (let i = 0; i < 50; i++) await fs.promises.writeFile(path.join(A, `f${i}.txt`), `file ${i}`);
    const { open } = await senderAndReceiver(root, A, B, 'read-only');
    const b = await open();
    await waitFor(() => b.progress('f').inSync, 20_000, 'first sync');
    await b.close();
    engines.splice(engines.indexOf(b), 1);
    // The receiver loses its folder and its database: it must get everything back.
    await fs.promises.rm(B, { recursive: true });
    await fs.promises.rm(path.join(root, 'b-state', 'folders'), { recursive: true });
    const b2 = await open();
    await waitFor(() => b2.progress('f').inSync, 20_000, 'in sync again');
    expect(fs.readdirSync(B).filter((n) => n.endsWith('.txt'))).toHaveLength(50);
  }, 60_000);
});
