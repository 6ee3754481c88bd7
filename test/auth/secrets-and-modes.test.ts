/**
 * No HTTP response carries a read-write secret, and .burrow/ is the owner's alone (issue 11,
 * item 7): share-folder and revoke-share over the real API, every answer searched for every
 * read-write secret of the secrets table; modes of .burrow/ at init and fixed at start.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { authNas, everyRoute, type AuthFixture } from './fixture.js';
import { ownerFetch } from '../helpers/nas-auth.js';
import { SecretsRepo } from '../../server/src/store/secrets-repo.js';
import { initRoot } from '../../server/src/root/open-root.js';
import { startNas } from '../../server/src/nas.js';
import { tempDir } from '../helpers/tmp.js';

let f: AuthFixture | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every file and folder under dir (not following links), with its permission bits. */
function modes(dir: string, skip: string[] = []): Array<[string, string]> {
  const out: Array<[string, string]> = [[dir, (fs.statSync(dir).mode & 0o777).toString(8)]];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, e.name);
    if (skip.includes(abs)) continue;
    if (e.isDirectory()) out.push(...modes(abs, skip));
    else if (e.isFile()) out.push([abs, (fs.lstatSync(abs).mode & 0o777).toString(8)]);
  }
  return out;
}

async function firstChunk(r: Response): Promise<string> {
  const reader = r.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return new TextDecoder().decode(value);
}

describe('read-write secrets over HTTP', () => {
  it('share-folder and revoke-share results, and every other answer, carry no read-write secret', async () => {
    f = await authNas({ 'family/a.jpg': 'a', 'family/x/b.jpg': 'b', 'docs/c.txt': 'c' });
    const api = (p: string, init: RequestInit = {}) => ownerFetch(f!.root, `${f!.nas.url}${p}`, init);
    const post = async (body: object) => (await (await api('/api/requests?wait=20000', { method: 'POST', body: JSON.stringify(body) })).text());
    const bodies: string[] = [];
    bodies.push(await post({ id: 'rw-share-folder-1', device: '@nas', action: 'share-folder', path: 'family', args: { limitMb: 50 }, confirm: true }));
    const shareId = (JSON.parse(bodies[0]!) as { state: string; result: { shareId: string } }).result.shareId;
    const secrets = new SecretsRepo(f.nas.ctx.store.db);
    const rwShared = secrets.get('share', shareId)?.read_write;
    expect(rwShared, 'the sync engine made the share\'s secrets').toMatch(/^A/);
    bodies.push(await post({ id: 'rw-revoke-share-1', device: '@nas', action: 'revoke-share', path: 'family', args: { shareId }, confirm: true }));
    expect(JSON.parse(bodies[1]!)).toMatchObject({ state: 'done' });
    bodies.push(await post({ id: 'rw-share-1', device: '@nas', action: 'share', path: 'docs/c.txt', confirm: true }));
    // Every route the owner can GET, plus the request views, after all of that.
    const gets = [...new Set([...everyRoute(f.nas).filter(([m]) => m === 'GET').map(([, u]) => u), '/api/requests?device=@nas&limit=1000', '/api/requests/rw-share-folder-1', '/api/requests/rw-revoke-share-1', '/catalogue/devices/@nas.js', '/catalogue/data/index.js'])];
    for (const u of gets) {
      const r = await api(u);
      // The admin event stream never ends: what it says at once is what there is to check.
      const text = r.headers.get('content-type')?.startsWith('text/event-stream') ? await firstChunk(r) : await r.text();
      bodies.push(`${u}: ${text}`);
    }
    const all = [rwShared!, ...secrets.list().map((r) => r.read_write)];
    expect(all.length).toBeGreaterThanOrEqual(4); // catalogue, two devices, the shares
    for (const secret of all) for (const b of bodies) expect(b.includes(secret), `a read-write secret in ${b.slice(0, 120)}`).toBe(false);
    // The result says where the secret is instead.
    expect(JSON.parse(bodies[0]!).result).toMatchObject({ secrets: { readOnly: expect.stringMatching(/^B/) }, readWriteSecret: expect.stringContaining('burrow secrets share:') });
  });

  it('a request result stored by an older version loses its read-write secret when the root is opened', async () => {
    const t = tempDir('burrow-auth-old-');
    cleanups.push(t.cleanup);
    initRoot(t.dir);
    const db = new Database(path.join(t.dir, '.burrow/burrow.db'));
    const old = { shareId: 'fam', secrets: { readWrite: 'AOLDREADWRITESECRETOLDREADWRITESECRET', readOnly: 'BOLDREADONLY', encrypted: 'FOLD' } };
    db.prepare("INSERT INTO requests (id, device, action, path, args, confirm, source, state, result, created_at, updated_at) VALUES ('old-share-1', '@nas', 'share-folder', 'fam', '{}', 1, 'cli', 'done', ?, 1, 1)").run(JSON.stringify(old));
    db.prepare("DELETE FROM schema_migrations WHERE name LIKE '%read_write%'").run();
    db.close();
    const nas = await startNas(t.dir, { port: 0, host: '127.0.0.1', watch: false, hash: false });
    cleanups.push(() => nas.stop());
    const body = await (await ownerFetch(t.dir, `${nas.url}/api/requests/old-share-1`)).text();
    expect(body).toContain('BOLDREADONLY');
    expect(body).not.toContain('AOLDREADWRITESECRET');
  });
});

describe('.burrow/ is the owner\'s alone', () => {
  it('init makes it 0700 with every file 0600; start fixes a root left 0755/0644, including the database\'s -wal and -shm', async () => {
    const t = tempDir('burrow-auth-modes-');
    cleanups.push(t.cleanup);
    initRoot(t.dir);
    const state = path.join(t.dir, '.burrow');
    const trash = path.join(state, 'trash');
    const expectPrivate = () => {
      for (const [p, m] of modes(state, [])) expect(m, p).toBe(fs.statSync(p).isDirectory() ? '700' : '600');
    };
    expectPrivate();
    expect(fs.existsSync(path.join(state, 'api-token'))).toBe(true);
    // An older root: everything readable by everyone.
    for (const [p] of modes(state)) fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644);
    fs.mkdirSync(path.join(trash, 'item-1'));
    fs.writeFileSync(path.join(trash, 'item-1/photo.jpg'), 'user data keeps its mode');
    fs.chmodSync(path.join(trash, 'item-1/photo.jpg'), 0o644);
    const nas = await startNas(t.dir, { port: 0, host: '127.0.0.1', watch: false, hash: false });
    cleanups.push(() => nas.stop());
    expect(fs.existsSync(path.join(state, 'burrow.db-wal'))).toBe(true);
    for (const [p, m] of modes(state, [path.join(trash, 'item-1')])) expect(m, p).toBe(fs.statSync(p).isDirectory() ? '700' : '600');
    // The trash holds the user's own files: their modes come back with them on restore.
    expect((fs.statSync(path.join(trash, 'item-1/photo.jpg')).mode & 0o777).toString(8)).toBe('644');
  });
});
