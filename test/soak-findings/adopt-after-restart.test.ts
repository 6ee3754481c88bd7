import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDevice, startNas, stopProc, tempRoot, waitFor, type NasHandle } from '../agent/harness.js';
import { api } from '../spec/nas-api.js';

// Soak finding 9 (seed 505, 2026-12-03): beta wrote m2-98-dir/m6-14-dir/beta-new-9-6.txt while the
// NAS was starting again after a kill -9. The sync engine (opened first) put it in
// devices/beta/ and the index took it in, but the request service was not listening yet, so no
// adopt was made; the index then held the file, no later change event came, and the store never
// got it. The same happened to a file that arrived just before a crash (the reconcile at start
// announces it before any service listens).
let base: string;
let nasRoot: string;
let nas: NasHandle | null = null;

const store = (rel: string) => path.join(nasRoot, 'files', rel);
const onDevice = (rel: string) => path.join(nasRoot, 'devices', 'beta', rel);

beforeAll(async () => {
  base = tempRoot('burrow-finding-adopt-restart-');
  nasRoot = path.join(base, 'nas');
  fs.mkdirSync(path.join(nasRoot, 'files', 'docs'), { recursive: true });
  fs.writeFileSync(store('docs/kept.txt'), 'in the store\n');
  fs.writeFileSync(store('docs/removed.txt'), 'the owner removes this one over SMB\n');
  fs.mkdirSync(path.join(nasRoot, 'files', 'family'), { recursive: true });
  fs.writeFileSync(store('family/owner.txt'), 'the owner shares this folder\n');
  nas = await startNas(nasRoot);
  addDevice(nasRoot, 'beta');
  // beta holds two store files (links the NAS made, recorded in device_links).
  for (const [id, p] of [['get-kept-000001', 'docs/kept.txt'], ['get-removed-0001', 'docs/removed.txt']] as const) {
    const r = await api<{ state: string }>(nasRoot, nas.url, 'POST', '/api/requests?wait=30000', { id, device: 'beta', action: 'get', path: p, args: {}, confirm: false });
    expect(r.json.state).toBe('done');
  }
}, 120_000);

afterAll(async () => {
  await stopProc(nas);
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('files a device sent while no one listened', () => {
  it('are adopted when the NAS starts again; a store file the owner removed is not brought back', async () => {
    await stopProc(nas);
    // As the sync engine would have written them just before the crash.
    fs.mkdirSync(onDevice('new/deeper'), { recursive: true });
    fs.writeFileSync(onDevice('new/deeper/from-beta.txt'), 'written by beta\n');
    fs.writeFileSync(onDevice('docs/beta-note.txt'), 'also from beta\n');
    fs.unlinkSync(store('docs/removed.txt'));
    nas = await startNas(nasRoot);
    await waitFor('both adopted into files/', () => fs.existsSync(store('new/deeper/from-beta.txt')) && fs.existsSync(store('docs/beta-note.txt')), 30_000);
    expect(fs.statSync(store('new/deeper/from-beta.txt')).ino).toBe(fs.statSync(onDevice('new/deeper/from-beta.txt')).ino);
    expect(fs.readFileSync(store('docs/beta-note.txt'), 'utf8')).toBe('also from beta\n');
    // Nothing else was taken in: the removed file stays removed, the kept one is untouched.
    await new Promise((r) => setTimeout(r, 1500));
    expect(fs.existsSync(store('docs/removed.txt'))).toBe(false);
    expect(fs.statSync(store('docs/kept.txt')).ino).toBe(fs.statSync(onDevice('docs/kept.txt')).ino);
  }, 90_000);

  it("a friend's file in a shared folder is adopted when the NAS starts again", async () => {
    const r = await api<{ state: string; result: { shareId: string } }>(nasRoot, nas!.url, 'POST', '/api/requests?wait=30000', { id: 'share-family-0001', device: '@nas', action: 'share-folder', path: 'family', args: { limitMb: 10 }, confirm: false });
    expect(r.json.state).toBe('done');
    const shareDir = path.join(nasRoot, 'shared', r.json.result.shareId);
    const inShare = fs.readdirSync(shareDir, { recursive: true }).map(String).find((p) => p.endsWith('owner.txt'))!;
    const friendRel = path.join(path.dirname(inShare), 'from-friend.txt');
    await stopProc(nas);
    // What the sync engine and nas-sync do when a friend's file arrives, just before a crash.
    fs.writeFileSync(path.join(shareDir, friendRel), 'written by a friend\n');
    const db = new Database(path.join(nasRoot, '.burrow', 'burrow.db'));
    db.prepare('INSERT INTO share_received (share_id, path, ino, received_at) VALUES (?, ?, ?, ?)').run(r.json.result.shareId, friendRel, fs.statSync(path.join(shareDir, friendRel)).ino, Date.now());
    db.close();
    nas = await startNas(nasRoot);
    await waitFor('the friend\'s file in files/family/', () => fs.existsSync(store('family/from-friend.txt')), 30_000);
    expect(fs.readFileSync(store('family/from-friend.txt'), 'utf8')).toBe('written by a friend\n');
  }, 90_000);
});
