import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, parseConflictCopy, type SyncEngine } from '../../server/src/sync/index.js';
import { engine, readTree, tmpDir, waitFor, writeTree } from './helpers.js';

/** Issue 14: the engine's pause/resume (kept across restarts), its traffic counters, and "keep one side" of a conflict. */
const engines: SyncEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});
const tree = (d: string): Promise<Record<string, string>> => readTree(d).catch(() => ({}) as Record<string, string>);
/** Long enough that a paused folder would have had many dial rounds (200 ms) and rescans. */
const QUIET_MS = 2_500;

async function pair(root: string, files: Record<string, string> = {}) {
  const s = newFolderSecrets();
  const dirs = { a: path.join(root, 'a'), b: path.join(root, 'b') };
  await writeTree(dirs.a, files);
  await fs.promises.mkdir(dirs.b, { recursive: true });
  const a = await engine(root, 'a', { rescanIntervalMs: 300 });
  const b = await engine(root, 'b', { rescanIntervalMs: 300 });
  engines.push(a, b);
  await a.addFolder({ id: 'f', path: dirs.a, secret: s.readWrite, mode: 'send-receive' });
  await b.addFolder({ id: 'f', path: dirs.b, secret: s.readWrite, mode: 'send-receive', peers: [`127.0.0.1:${a.port}`] });
  return { s, dirs, a, b };
}

describe('sync engine: pause and resume', () => {
  it('a paused folder neither dials, serves nor applies; resume catches up; the pause survives a restart', async () => {
    const root = await tmpDir();
    const { s, dirs, a, b } = await pair(root, { 'one.txt': 'one' });
    await waitFor(async () => (await tree(dirs.b))['one.txt'] === 'one', 15_000, 'first file on b');
    const before = b.traffic('f');
    expect(before.bytesIn).toBeGreaterThan(0);

    await b.pauseFolder('f');
    expect(b.isPaused('f')).toBe(true);
    expect(b.listFolders()).toEqual([expect.objectContaining({ id: 'f', paused: true })]);
    await waitFor(() => a.listPeers('f').length === 0, 10_000, 'a sees b gone');
    await fs.promises.writeFile(path.join(dirs.a, 'two.txt'), 'two');
    await a.rescan('f');
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect((await tree(dirs.b))['two.txt']).toBeUndefined();
    expect(a.listPeers('f')).toEqual([]); // b neither dialled nor answered a's dials

    // Restart b: still paused (paused.json), still nothing arrives.
    engines.splice(engines.indexOf(b), 1);
    await b.close();
    const b2 = await engine(root, 'b', { rescanIntervalMs: 300 });
    engines.push(b2);
    await b2.addFolder({ id: 'f', path: dirs.b, secret: s.readWrite, mode: 'send-receive', peers: [`127.0.0.1:${a.port}`] });
    expect(b2.isPaused('f')).toBe(true);
    expect(b2.progress('f').inSync).toBe(false);
    a.addPeer('f', `127.0.0.1:${b2.port}`);
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect((await tree(dirs.b))['two.txt']).toBeUndefined();
    expect(a.listPeers('f')).toEqual([]);

    await b2.resumeFolder('f');
    expect(b2.isPaused('f')).toBe(false);
    await waitFor(async () => (await tree(dirs.b))['two.txt'] === 'two', 15_000, 'two.txt after resume');
    expect(b2.traffic('f').bytesIn).toBeGreaterThan(0);
    // Removing a paused folder forgets the pause as well.
    await b2.pauseFolder('f');
    await b2.removeFolder('f');
    expect(JSON.parse(fs.readFileSync(path.join(root, 'b-state', 'paused.json'), 'utf8'))).toEqual([]);
  });

  it('counts bytes per folder, closed connections included', async () => {
    const root = await tmpDir();
    const { dirs, a, b } = await pair(root, { 'big.bin': 'x'.repeat(300_000) });
    await waitFor(async () => (await tree(dirs.b))['big.bin']?.length === 300_000, 15_000, 'big file on b');
    const t = b.traffic('f');
    expect(t.bytesIn).toBeGreaterThan(300_000 * 0.9);
    expect(a.traffic('f').bytesOut).toBeGreaterThan(300_000 * 0.9);
    await b.pauseFolder('f'); // its connection closes; the count stays
    expect(b.traffic('f').bytesIn).toBeGreaterThanOrEqual(t.bytesIn);
  });
});

describe('sync engine: conflicts', () => {
  async function conflict(root: string) {
    const p = await pair(root, { 'doc.txt': 'base' });
    const { dirs, a, b } = p;
    await waitFor(async () => (await tree(dirs.b))['doc.txt'] === 'base', 15_000, 'base on b');
    await a.pauseFolder('f');
    await b.pauseFolder('f');
    await fs.promises.writeFile(path.join(dirs.a, 'doc.txt'), 'edit on A (wins, newer)');
    await fs.promises.writeFile(path.join(dirs.b, 'doc.txt'), 'edit on B');
    const t = Date.now() / 1000;
    await fs.promises.utimes(path.join(dirs.b, 'doc.txt'), t - 100, t - 100);
    await fs.promises.utimes(path.join(dirs.a, 'doc.txt'), t - 10, t - 10);
    await a.resumeFolder('f');
    await b.resumeFolder('f');
    const hasCopy = (tr: Record<string, string>) => Object.entries(tr).some(([k, v]) => parseConflictCopy(k) && v === 'edit on B');
    await waitFor(async () => hasCopy(await tree(dirs.a)) && hasCopy(await tree(dirs.b)) && (await tree(dirs.b))['doc.txt'] === 'edit on A (wins, newer)', 20_000, 'conflict copy on both');
    await waitFor(() => b.listConflicts('f').length === 1, 10_000, 'b lists the conflict');
    return p;
  }

  it('lists both versions and keeps the copy: it becomes the file everywhere, the winner goes to the host', async () => {
    const root = await tmpDir();
    const { dirs, a, b } = await conflict(root);
    const [c] = b.listConflicts('f');
    expect(c!.original).toEqual({ path: 'doc.txt', size: 'edit on A (wins, newer)'.length, mtime: expect.any(Number) });
    expect(c!.copy).toMatchObject({ size: 'edit on B'.length, keptBy: expect.stringMatching(/^[0-9A-Z]{7}$/) });
    const kept: string[] = [];
    const trash = path.join(root, 'trash');
    await fs.promises.mkdir(trash);
    await b.keepConflict('f', c!.copy.path, 'copy', async (abs, rel) => {
      kept.push(rel);
      await fs.promises.rename(abs, path.join(trash, path.basename(rel)));
    });
    expect(kept).toEqual(['doc.txt']);
    expect(fs.readFileSync(path.join(trash, 'doc.txt'), 'utf8')).toBe('edit on A (wins, newer)');
    await waitFor(async () => {
      const ta = await tree(dirs.a);
      const tb = await tree(dirs.b);
      return ta['doc.txt'] === 'edit on B' && tb['doc.txt'] === 'edit on B' && Object.keys(ta).length === 1 && Object.keys(tb).length === 1;
    }, 20_000, 'the kept copy everywhere, no copy left');
    expect(b.listConflicts('f')).toEqual([]);
    await expect(b.keepConflict('f', 'doc.txt', 'copy', async () => undefined)).rejects.toMatchObject({ code: 'NOT_A_CONFLICT' });
  });

  it('keeps the original: the copy goes to the host and its deletion reaches the peer', async () => {
    const root = await tmpDir();
    const { dirs, a, b } = await conflict(root);
    const [c] = a.listConflicts('f');
    let discarded = '';
    await a.keepConflict('f', c!.copy.path, 'original', async (abs, rel) => {
      discarded = fs.readFileSync(abs, 'utf8');
      await fs.promises.rename(abs, path.join(root, 'discarded'));
      expect(rel).toBe(c!.copy.path);
    });
    expect(discarded).toBe('edit on B');
    await waitFor(async () => JSON.stringify(await tree(dirs.b)) === JSON.stringify({ 'doc.txt': 'edit on A (wins, newer)' }), 20_000, 'the copy gone on b');
    expect(await tree(dirs.a)).toEqual({ 'doc.txt': 'edit on A (wins, newer)' });
  });
});
