/**
 * A full disk: the data area (files/, devices/, shared/) on a tiny tmpfs that has no room left.
 * The request must fail with a clear reason and leave nothing half-done. The NAS state
 * (.burrow/, with the database) lives on the normal disk here, so the failure hits the
 * action's own steps, not the bookkeeping. Needs root for mount; skipped loudly otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRoot, openRoot, type OpenRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { Indexer } from '../../server/src/index/indexer.js';
import { createLogger } from '../../server/src/log.js';
import { RequestProcessor } from '../../server/src/requests/processor.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { listFiles } from './fixture.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('SKIPPED: the ENOSPC test needs root to mount a small tmpfs (run the suite as root to cover it).');

const t = tempDir('burrow-enospc-');
const mnt = path.join(t.dir, 'small');
const root = path.join(mnt, 'nas');
let mounted = false;
let r: OpenRoot;
let proc: RequestProcessor;
let indexer: Indexer;

function freeInodes(): number {
  const out = execFileSync('df', ['--output=iavail', mnt], { encoding: 'utf8' }).trim().split('\n');
  return Number(out[out.length - 1]);
}

beforeAll(async () => {
  if (!isRoot) return;
  fs.mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,nr_inodes=400', 'tmpfs', mnt]);
  mounted = true;
  const state = path.join(t.dir, 'state');
  fs.mkdirSync(root);
  fs.mkdirSync(state);
  fs.symlinkSync(state, path.join(root, '.burrow'));
  initRoot(root);
  r = openRoot(root);
  addDevice(r, 'phone', null);
  writeFiles(r.layout.files, { 'album/1.mp3': '1', 'album/disc2/2.mp3': '2', 'album/disc2/3.mp3': '3', 'note.txt': 'n' });
  const log = createLogger('silent');
  indexer = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, log);
  indexer.reconcile();
  proc = new RequestProcessor({ layout: r.layout, config: r.config, store: r.store, log, services: new Map(), events: new EventEmitter(), refresh: (p) => indexer.refresh(p) });
  await proc.open();
});

afterAll(async () => {
  if (mounted) {
    await indexer.close();
    r.close();
    execFileSync('umount', [mnt]);
  }
  t.cleanup();
});

describe.skipIf(!isRoot)('a full disk (ENOSPC on a 2 MB tmpfs)', () => {
  it('get of a folder fails clearly when a folder cannot be created, and rolls back the links already made', async () => {
    // Leave exactly one free inode: the first folder is made, the second cannot be.
    const filler = path.join(mnt, 'filler');
    fs.mkdirSync(filler);
    for (let i = freeInodes(); i > 1; i--) fs.writeFileSync(path.join(filler, `f${i}`), '');
    const st = await proc.submit({ id: 'enospc-get-0001', device: 'phone', action: 'get', path: 'album' }, 'cli').done;
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/^Could not (create the folder|link) devices\/phone\/album\/\S+: the disk is full \(ENOSPC\)\. Nothing was changed\.$/);
    expect(fs.readdirSync(r.layout.device('phone'))).toEqual([]);
    expect(listFiles(r.layout.files)).toEqual(['album/1.mp3', 'album/disc2/2.mp3', 'album/disc2/3.mp3', 'note.txt']);
    expect(proc.journalRepo.forRequest('enospc-get-0001')?.state).toBe('rolled-back');
    fs.rmSync(filler, { recursive: true });
  });

  it('share-folder fails clearly when the full disk refuses its folders or links, and leaves no share behind', async () => {
    // Full in both ways: no bytes and no inodes left.
    const filler = path.join(mnt, 'big');
    fs.mkdirSync(filler);
    try {
      fs.writeFileSync(path.join(filler, 'data'), Buffer.alloc(4 * 1024 * 1024));
    } catch {
      /* ENOSPC: no bytes left, which is the point */
    }
    for (let i = freeInodes(); i > 0; i--) fs.writeFileSync(path.join(filler, `f${i}`), '');
    const before = listFiles(r.layout.root).filter((p) => !p.startsWith('big/'));
    const st = await proc.submit({ id: 'enospc-share-01', device: '@nas', action: 'share-folder', path: 'album', args: { limitMb: 5 } }, 'cli').done;
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/^Could not (create the folder|link) shared\/album\S*: the disk is full \(ENOSPC\)\. Nothing was changed\.$/);
    expect(listFiles(r.layout.root).filter((p) => !p.startsWith('big/'))).toEqual(before);
    expect(fs.readdirSync(r.layout.shared)).toEqual([]);
    expect(proc.shares.list()).toEqual([]);
    fs.rmSync(filler, { recursive: true, force: true });
    // With room again, the same request (a new id) works.
    expect((await proc.submit({ id: 'enospc-share-02', device: '@nas', action: 'share-folder', path: 'album', args: { limitMb: 5 } }, 'cli').done).state).toBe('done');
  });
});
