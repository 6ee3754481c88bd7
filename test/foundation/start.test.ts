import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initRoot } from '../../server/src/root/open-root.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { ownerFetch } from '../helpers/nas-auth.js';
import { tempDir, waitFor, writeFiles } from '../helpers/tmp.js';
import { burrow, burrowBackground, exitOf } from '../helpers/cli.js';
import { deviceArea } from '../../server/src/store/entries-repo.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(files: Record<string, string> = {}): Promise<{ root: string; nas: RunningNas }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  initRoot(t.dir);
  writeFiles(path.join(t.dir, 'files'), files);
  const nas = await startNas(t.dir, { port: 0, host: '127.0.0.1' });
  cleanups.push(() => nas.stop());
  return { root: t.dir, nas };
}

describe('burrow start (in process)', () => {
  it('reconciles at start and serves health and status on 127.0.0.1', async () => {
    const { nas } = await started({ 'a.txt': 'aaa', 'dir/b.txt': 'bb' });
    expect(nas.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await (await fetch(`${nas.url}/api/health`)).json();
    expect(health).toEqual({ ok: true });
    await nas.ctx.indexer.hashIdle();
    const status = await (await ownerFetch(nas.ctx.layout.root, `${nas.url}/api/status`)).json();
    expect(status).toMatchObject({ files: 2, folders: 1, bytes: 5, hash: { hashedFiles: 2, totalFiles: 2, percent: 100 } });
  });

  it('keeps the index current from filesystem events, in batches', async () => {
    const { root, nas } = await started({ 'old.txt': 'x' });
    const seen: string[] = [];
    nas.ctx.indexer.on('changed', (e: { changes: Array<{ area: string; path: string }> }) => seen.push(...e.changes.map((c) => `${c.area}:${c.path}`)));
    fs.mkdirSync(path.join(root, 'files/new/deeper'), { recursive: true });
    fs.writeFileSync(path.join(root, 'files/new/deeper/n.txt'), 'new file');
    fs.rmSync(path.join(root, 'files/old.txt'));
    fs.mkdirSync(path.join(root, 'devices/laptop'), { recursive: true });
    fs.linkSync(path.join(root, 'files/new/deeper/n.txt'), path.join(root, 'devices/laptop/n.txt'));
    const e = nas.ctx.store.entries;
    await waitFor(() => e.get('files', 'new/deeper/n.txt') && !e.get('files', 'old.txt') && e.get(deviceArea('laptop'), 'n.txt'), 5000);
    const f = e.get('files', 'new/deeper/n.txt')!;
    expect(e.holdersOf(f.dev, f.ino)).toEqual([{ area: deviceArea('laptop'), path: 'n.txt' }]);
    expect(seen).toContain('files:new/deeper/n.txt');
    expect(seen).toContain('files:old.txt');
    // A local deletion on the device side is noticed too.
    fs.rmSync(path.join(root, 'devices/laptop/n.txt'));
    await waitFor(() => !e.get(deviceArea('laptop'), 'n.txt'), 5000);
    expect(e.holdersOf(f.dev, f.ino)).toEqual([]);
  });
});

describe('burrow start (process)', () => {
  it('refuses a second NAS on the same root, and stops cleanly on SIGTERM', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    initRoot(t.dir);
    const first = await burrowBackground(['start', '--root', t.dir, '--port', '0'], 'Burrow NAS running');
    const url = /admin UI and API: (http:\/\/\S+)\//.exec(first.stdout())![1]!;
    expect((await (await fetch(`${url}/api/health`)).json()).ok).toBe(true);
    const second = burrow(['start', '--root', t.dir, '--port', '0']);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`already running on .*\\(|pid ${first.child.pid}`));
    first.child.kill('SIGTERM');
    expect(await exitOf(first.child)).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(path.join(t.dir, '.burrow/burrow.lock'))).toBe(false);
  });

  it('takes over the lock of a NAS that was killed -9', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    initRoot(t.dir);
    const first = await burrowBackground(['start', '--root', t.dir, '--port', '0'], 'Burrow NAS running');
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const again = await burrowBackground(['start', '--root', t.dir, '--port', '0'], 'Burrow NAS running');
    again.child.kill('SIGINT');
    expect(await exitOf(again.child), again.stderr()).toEqual({ code: 0, signal: null });
  });
});
