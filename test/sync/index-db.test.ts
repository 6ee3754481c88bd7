import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, type SyncEngine } from '../../server/src/sync/index.js';
import { engine, tmpDir, waitFor } from './helpers.js';

const engines: SyncEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

/** Bytes this process has handed to write(2) so far (files and sockets alike). */
function written(): number {
  return Number(/wchar: (\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))![1]);
}

describe('the folder index in its own database', () => {
  it('one changed file among 5,000 writes a few KiB of state, not the whole index, and survives a restart', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const A = path.join(root, 'a');
    for (let d = 0; d < 50; d++) {
      await fs.promises.mkdir(path.join(A, `d${d}`), { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, i) => fs.promises.writeFile(path.join(A, `d${d}`, `f${i}.txt`), `file ${d}/${i}`)));
    }
    const a = await engine(root, 'a');
    engines.push(a);
    await a.addFolder({ id: 'f', path: A, secret: s.readWrite, mode: 'send-receive' });
    await waitFor(() => a.listFiles('f').length === 5000, 60_000, 'first scan');
    await a.close(); // saves everything
    engines.splice(engines.indexOf(a), 1);

    const a2 = await engine(root, 'a');
    engines.push(a2);
    await a2.addFolder({ id: 'f', path: A, secret: s.readWrite, mode: 'send-receive' });
    expect(a2.listFiles('f')).toHaveLength(5000);
    await a2.rescan('f'); // the stat-only reconcile: nothing changed, nothing to hash
    const before = written();
    await fs.promises.writeFile(path.join(A, 'd7/f7.txt'), 'edited');
    await a2.rescan('f');
    await a2.close(); // the save of that one change
    engines.splice(engines.indexOf(a2), 1);
    const bytes = written() - before;
    // The whole index of 5,000 records is over 2 MB; one record and its stat row are a few pages.
    expect(bytes).toBeLessThan(256 * 1024);

    const a3 = await engine(root, 'a');
    engines.push(a3);
    await a3.addFolder({ id: 'f', path: A, secret: s.readWrite, mode: 'send-receive' });
    const files = a3.listFiles('f');
    expect(files).toHaveLength(5000);
    expect(files.find((f) => f.path === 'd7/f7.txt')?.size).toBe(6);
    const state = fs.readdirSync(path.join(root, 'a-state', 'folders'));
    expect(state.some((n) => n.endsWith('.db'))).toBe(true);
    expect(state.some((n) => n.endsWith('.json'))).toBe(false);
  }, 90_000);
});
