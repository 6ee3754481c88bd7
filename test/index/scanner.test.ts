import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initRoot, openRoot, type OpenRoot } from '../../server/src/root/open-root.js';
import { scanArea, scanRoot } from '../../server/src/index/scanner.js';
import { hashPending } from '../../server/src/index/hasher.js';
import { deviceArea } from '../../server/src/store/entries-repo.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { burrow } from '../helpers/cli.js';

let root: string;
let r: OpenRoot;
let cleanup: () => void;
beforeEach(() => {
  const t = tempDir();
  root = t.dir;
  cleanup = t.cleanup;
  initRoot(root);
  r = openRoot(root);
});
afterEach(() => {
  r.close();
  cleanup();
});

const HOSTILE = [
  'with space.txt',
  'quote"double.txt',
  "quote'single.txt",
  '<img src=x onerror=alert(1)>.jpg',
  '"\'><script>alert(1)<\u2215script>', // a real "/" cannot be in a file name
  'amp&lt;.txt',
  'new\nline.txt',
  'emoji 🦫📦.txt',
  'combining e\u0301 vs \u00e9.txt',
  'rtl \u202Egpj.exe',
  'ü'.repeat(127) + 'x', // 255 bytes in UTF-8
];

describe('scan', () => {
  it('records files, folders, sizes, inodes and nlink, and round-trips hostile names', () => {
    const files: Record<string, string> = {};
    for (const n of HOSTILE) files[`odd/${n}`] = `content of ${n}`;
    files['a/b/c/deep.txt'] = 'deep';
    writeFiles(r.layout.files, files);
    expect(Buffer.byteLength(HOSTILE[HOSTILE.length - 1]!)).toBe(255);
    const stats = scanRoot(r.store, r.layout);
    expect(stats.files).toBe(HOSTILE.length + 1);
    expect(stats.errors).toBe(0);
    for (const n of HOSTILE) {
      const row = r.store.entries.get('files', `odd/${n}`);
      expect(row, n).toBeDefined();
      const st = fs.lstatSync(path.join(r.layout.files, 'odd', n));
      expect(row).toMatchObject({ kind: 'file', size: st.size, ino: st.ino, dev: st.dev, nlink: 1, parent: 'odd' });
    }
    expect(r.store.entries.get('files', 'a/b')).toMatchObject({ kind: 'dir', parent: 'a' });
    expect(r.store.entries.children('files', 'a/b/c').map((e) => e.path)).toEqual(['a/b/c/deep.txt']);
  });

  it('records symlinks without following them', () => {
    const outside = tempDir();
    try {
      writeFiles(outside.dir, { 'secret.txt': 'outside the store' });
      fs.symlinkSync(outside.dir, path.join(r.layout.files, 'link-to-outside'));
      fs.symlinkSync('missing-target', path.join(r.layout.files, 'dangling'));
      scanRoot(r.store, r.layout);
      expect(r.store.entries.get('files', 'link-to-outside')).toMatchObject({ kind: 'symlink', link_target: outside.dir });
      expect(r.store.entries.get('files', 'dangling')).toMatchObject({ kind: 'symlink', link_target: 'missing-target' });
      expect(r.store.entries.get('files', 'link-to-outside/secret.txt')).toBeUndefined();
    } finally {
      outside.cleanup();
    }
  });

  it('survives a file deleted between readdir and stat', () => {
    writeFiles(r.layout.files, { 'd/a.txt': 'a', 'd/vanishing.txt': 'v', 'd/z.txt': 'z' });
    const stats = scanArea(r.store, 'files', r.layout.files, '', {
      afterReaddir: (dir) => {
        if (dir.endsWith('/d')) fs.rmSync(path.join(dir, 'vanishing.txt'));
      },
    });
    expect(stats.errors).toBe(0);
    expect(r.store.entries.get('files', 'd/a.txt')).toBeDefined();
    expect(r.store.entries.get('files', 'd/z.txt')).toBeDefined();
    expect(r.store.entries.get('files', 'd/vanishing.txt')).toBeUndefined();
  });

  it('a first scan bulk-loads and rebuilds the secondary indexes; a crash during it leaves the index empty and whole', () => {
    writeFiles(r.layout.files, { 'a/1.txt': '1', 'a/b/2.txt': '22', 'c/3.txt': '333' });
    const indexes = () => (r.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[]);
    const before = indexes();
    expect(before.length).toBeGreaterThan(0);
    // A crash in the middle of the load (an exception out of the walk) rolls back rows and the index drop.
    expect(() => scanRoot(r.store, r.layout, { afterReaddir: (dir) => { if (dir.endsWith('/b')) throw new Error('killed'); } })).toThrow('killed');
    expect(r.store.entries.isEmpty()).toBe(true);
    expect(indexes()).toEqual(before);
    const stats = scanRoot(r.store, r.layout);
    expect(stats.added).toBe(6);
    expect(indexes()).toEqual(before);
    expect(r.store.entries.get('files', 'a/b/2.txt')?.size).toBe(2);
    expect(r.store.entries.childrenRaw('files', 'a').map((c) => c[0]).sort()).toEqual(['a/1.txt', 'a/b']);
    // The second pass is a reconcile (upserts), not a bulk load: nothing changed.
    const again = scanRoot(r.store, r.layout);
    expect(again.added + again.changed + again.removed).toBe(0);
  });

  it('records a permission-denied folder with its error and goes on', () => {
    writeFiles(r.layout.files, { 'open/ok.txt': 'ok', 'locked/hidden.txt': 'h', 'zz/after.txt': 'after' });
    r.close();
    fs.chmodSync(path.join(root, 'files/locked'), 0o000);
    // Root ignores permission bits, so the scan runs as an unprivileged user, as a NAS service would.
    spawnSync('chown', ['-R', '65534:65534', root]);
    const res = burrow(['scan', '--root', root, '--json'], { uid: process.getuid?.() === 0 ? 65534 : undefined, gid: process.getuid?.() === 0 ? 65534 : undefined });
    spawnSync('chown', ['-R', '0:0', root]);
    fs.chmodSync(path.join(root, 'files/locked'), 0o755);
    r = openRoot(root);
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.scan.errors).toBe(1);
    expect(r.store.entries.get('files', 'locked')).toMatchObject({ kind: 'error' });
    expect(r.store.entries.get('files', 'locked')!.error).toMatch(/EACCES/);
    expect(r.store.entries.get('files', 'zz/after.txt')).toBeDefined();
    expect(r.store.entries.get('files', 'open/ok.txt')).toBeDefined();
  });

  it('reconcile finds only what changed while the NAS was down', () => {
    writeFiles(r.layout.files, { 'a.txt': 'a', 'b.txt': 'b', 'dir/c.txt': 'c', 'dir/sub/d.txt': 'd', 'keep.txt': 'k' });
    scanRoot(r.store, r.layout);
    const nothing = scanRoot(r.store, r.layout);
    expect(nothing).toMatchObject({ added: 0, changed: 0, removed: 0 });
    fs.writeFileSync(path.join(r.layout.files, 'a.txt'), 'a changed');
    fs.rmSync(path.join(r.layout.files, 'dir'), { recursive: true });
    fs.writeFileSync(path.join(r.layout.files, 'new.txt'), 'n');
    const changes: string[] = [];
    const s = scanRoot(r.store, r.layout, { onChange: (c) => changes.push(`${c.area}:${c.path}`) });
    expect(s).toMatchObject({ added: 1, changed: 1, removed: 1 });
    expect(changes.sort()).toEqual(['files:a.txt', 'files:dir', 'files:new.txt']);
    expect(r.store.entries.get('files', 'dir/sub/d.txt')).toBeUndefined();
    expect(r.store.entries.get('files', 'a.txt')!.size).toBe(9);
  });

  it('knows which device folders hold a hard link of a store file', () => {
    writeFiles(r.layout.files, { 'music/song.mp3': 'la la' });
    fs.mkdirSync(path.join(r.layout.devices, 'laptop/music'), { recursive: true });
    fs.mkdirSync(path.join(r.layout.devices, 'phone'), { recursive: true });
    fs.linkSync(path.join(r.layout.files, 'music/song.mp3'), path.join(r.layout.devices, 'laptop/music/song.mp3'));
    scanRoot(r.store, r.layout);
    const f = r.store.entries.get('files', 'music/song.mp3')!;
    expect(f.nlink).toBe(2);
    expect(r.store.entries.holdersOf(f.dev, f.ino)).toEqual([{ area: deviceArea('laptop'), path: 'music/song.mp3' }]);
  });

  it('ignores Burrow bookkeeping inside device folders', () => {
    fs.mkdirSync(path.join(r.layout.devices, 'laptop/.burrow'), { recursive: true });
    fs.writeFileSync(path.join(r.layout.devices, 'laptop/.burrow/worklist.jsonl'), '{}\n');
    writeFiles(r.layout.files, { '.hidden-user-file': 'mine' });
    scanRoot(r.store, r.layout);
    expect(r.store.entries.get(deviceArea('laptop'), '.burrow/worklist.jsonl')).toBeUndefined();
    expect(r.store.entries.get('files', '.hidden-user-file')).toBeDefined();
  });
});

describe('hashing', () => {
  it('hashes each inode once, stores partial and full SHA-256, and skips unchanged files next time', async () => {
    const big = Buffer.alloc(300 * 1024, 7);
    big.write('head', 0);
    big.write('tail', big.length - 4);
    writeFiles(r.layout.files, { 'x/big.bin': big, 'y.txt': 'hello' });
    fs.linkSync(path.join(r.layout.files, 'y.txt'), path.join(r.layout.files, 'y-link.txt'));
    scanRoot(r.store, r.layout);
    const first = await hashPending(r.store, r.layout.files, { workers: 2, queue: 16 });
    expect(first.files).toBe(2); // y.txt and y-link.txt share an inode
    const y = r.store.entries.get('files', 'y.txt')!;
    const c = r.store.contents.get(y.dev, y.ino)!;
    const { createHash } = await import('node:crypto');
    expect(c.full_hash!.toString('hex')).toBe(createHash('sha256').update('hello').digest('hex'));
    const b = r.store.entries.get('files', 'x/big.bin')!;
    expect(r.store.contents.get(b.dev, b.ino)!.full_hash!.toString('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    expect(r.store.contents.get(b.dev, b.ino)!.partial_hash).toHaveLength(32);
    const again = await hashPending(r.store, r.layout.files, { workers: 2, queue: 16 });
    expect(again.files).toBe(0);
    // A change makes the hash stale, and only that file is read again.
    fs.writeFileSync(path.join(r.layout.files, 'y.txt'), 'hello, changed');
    scanRoot(r.store, r.layout);
    const third = await hashPending(r.store, r.layout.files, { workers: 2, queue: 16 });
    expect(third.files).toBe(1);
    expect(r.store.contents.progress()).toMatchObject({ files: 3, hashed: 3 });
  });
});
