import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, type SyncEngine } from '../../server/src/sync/index.js';
import { engine, tmpDir, waitFor } from '../sync/helpers.js';

// Soak finding 5 (seed 5, 2026-12-02): a `get` linked a file into devices/beta/ and the NAS was
// killed 50 ms later. The NAS's engine had already announced index sequences it saves only every
// few seconds; after the restart it gave the same numbers to other records, and beta, asking for
// "what is newer than the sequence I saw", never heard of the file (both sides said "in sync").
const engines: SyncEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

/** The folder's state database files in a stateDir (engine.ts keeps one per folder). */
function dbFiles(stateDir: string): string[] {
  return fs.readdirSync(stateDir, { recursive: true }).map(String).filter((f) => /\.db(-wal|-shm)?$/.test(f));
}

describe('index sequences after a crash of the sender', () => {
  it('a file made after a restart that lost announced sequences still reaches the peer', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const A = path.join(root, 'a');
    const B = path.join(root, 'b');
    fs.mkdirSync(A, { recursive: true });
    fs.writeFileSync(path.join(A, 'y.txt'), 'y 0');
    const aState = path.join(root, 'a-state');
    const openA = async (): Promise<SyncEngine> => {
      const a = await engine(root, 'a', { listen: { host: '127.0.0.1', port } });
      engines.push(a);
      await a.addFolder({ id: 'f', path: A, secret: s.readWrite, mode: 'send-receive' });
      return a;
    };
    const closeA = async (a: SyncEngine) => {
      engines.splice(engines.indexOf(a), 1);
      await a.close();
    };
    let port = 0;
    let a = await openA();
    port = a.port;
    await closeA(a);
    a = await openA();
    const b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${port}`] });
    engines.push(b);
    await b.addFolder({ id: 'f', path: B, secret: s.readOnly, mode: 'receive-only' });
    await waitFor(() => b.progress('f').inSync && fs.existsSync(path.join(B, 'y.txt')), 30_000, 'first sync');

    // What a kill -9 keeps: the database as last saved (a copy of its files now, while a runs
    // and nothing is waiting to be saved).
    await closeA(a);
    a = await openA();
    const saved = new Map(dbFiles(aState).map((f) => [f, fs.readFileSync(path.join(aState, f))]));
    // Three changes, each announced to b with a new sequence number...
    for (let i = 1; i <= 3; i++) {
      fs.writeFileSync(path.join(A, 'y.txt'), `y ${i}`);
      await a.rescan('f');
      await waitFor(() => fs.existsSync(path.join(B, 'y.txt')) && fs.readFileSync(path.join(B, 'y.txt'), 'utf8') === `y ${i}`, 30_000, `y ${i} on b`);
    }
    // ...then the crash: none of them reached a's database.
    await closeA(a);
    for (const f of dbFiles(aState)) if (!saved.has(f)) fs.rmSync(path.join(aState, f));
    for (const [f, bytes] of saved) fs.writeFileSync(path.join(aState, f), bytes);
    a = await openA();
    // A new file after the restart must reach b.
    fs.writeFileSync(path.join(A, 'x.txt'), 'made after the restart');
    await a.rescan('f');
    await waitFor(() => fs.existsSync(path.join(B, 'x.txt')), 30_000, 'x.txt on b');
    expect(fs.readFileSync(path.join(B, 'x.txt'), 'utf8')).toBe('made after the restart');
  }, 120_000);
});
