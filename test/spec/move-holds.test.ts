import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDevice, sameBytes, startAgent, startNas, stopProc, tempRoot, waitFor, type AgentHandle, type NasHandle } from '../agent/harness.js';
import { api, type ReqStatus } from './nas-api.js';

/**
 * The spec's [move]: the file "leaves laptop once the other devices have it". A real NAS and
 * two real device agents (alpha, beta) on 127.0.0.1: alpha's link stays while beta is offline,
 * through a kill -9 of the NAS while waiting and another in the middle of removing it; it goes
 * once beta's sync peer holds the file, exactly once. A target that never gets it leaves the
 * file on the source, and the request says why.
 */
let base: string;
let nasRoot: string;
let nas: NasHandle | null = null;
let A: AgentHandle;
let B: AgentHandle | null = null;
let joinB: string;

const onAlpha = (rel: string) => path.join(A.root, 'files', rel);
const onBeta = (rel: string) => path.join(base, 'beta', 'files', rel);
const nasFile = (rel: string) => path.join(nasRoot, 'files', rel);
const link = (dev: string, rel: string) => path.join(nasRoot, 'devices', dev, rel);

async function request(body: Record<string, unknown>): Promise<ReqStatus> {
  const r = await api<ReqStatus>(nasRoot, nas!.url, 'POST', '/api/requests?wait=30000', { args: {}, confirm: false, ...body });
  return r.json;
}
const status = async (id: string) => (await api<ReqStatus>(nasRoot, nas!.url, 'GET', `/api/requests/${id}`)).json;

function dbRows<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(nasRoot, '.burrow', 'burrow.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

async function restartNas(env: Record<string, string> = {}): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    nas = await startNas(nasRoot);
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  }
}

/** A negative property (the source still holds the file) observed over a window while the NAS keeps checking. */
async function staysFor(ms: number, fn: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!fn()) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

beforeAll(async () => {
  base = tempRoot('burrow-spec-move-');
  nasRoot = path.join(base, 'nas');
  fs.mkdirSync(path.join(nasRoot, 'files'), { recursive: true });
  fs.writeFileSync(path.join(nasRoot, 'files', 'film.bin'), crypto.randomBytes(2_000_000));
  fs.writeFileSync(path.join(nasRoot, 'files', 'notes.txt'), 'never reaches beta\n');
  nas = await startNas(nasRoot);
  const joinA = addDevice(nasRoot, 'alpha');
  joinB = addDevice(nasRoot, 'beta');
  [A, B] = await Promise.all([startAgent(path.join(base, 'alpha'), joinA), startAgent(path.join(base, 'beta'), joinB)]);
  for (const rel of ['film.bin', 'notes.txt']) expect((await request({ id: `get-${rel.replace('.', '-')}-01`, device: 'alpha', action: 'get', path: rel })).state).toBe('done');
  await waitFor('both files on alpha', () => sameBytes(onAlpha('film.bin'), nasFile('film.bin')) && sameBytes(onAlpha('notes.txt'), nasFile('notes.txt')));
}, 120_000);

afterAll(async () => {
  await Promise.all([stopProc(A), stopProc(B)]);
  await stopProc(nas);
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('move keeps the source until every target holds the file', () => {
  it('waits for beta through two kill -9 of the NAS, then leaves alpha exactly once', async () => {
    await stopProc(B);
    B = null;
    const st = await request({ id: 'move-film-000001', device: 'alpha', action: 'move', path: 'film.bin', args: { to: ['beta'] } });
    expect(st.state, st.reason).toBe('running');
    expect(st.reason).toMatch(/waiting for beta to hold the file; it stays on alpha/);
    expect(fs.statSync(link('beta', 'film.bin')).ino).toBe(fs.statSync(nasFile('film.bin')).ino);
    expect(await staysFor(3000, () => fs.existsSync(onAlpha('film.bin')) && fs.existsSync(link('alpha', 'film.bin')))).toBe(true);

    // kill -9 while it waits: after the restart it still waits, and is not run again.
    await stopProc(nas, 'SIGKILL');
    // The next NAS dies right after it removed alpha's link, before it recorded that (kill -9 in the finish).
    await restartNas({ BURROW_FAULT_AFTER_STEP: '1', BURROW_FAULT_ACTION: 'move-finish' });
    const crashed = new Promise<string | null>((r) => nas!.child.once('exit', (_c, sig) => r(sig)));
    expect((await status('move-film-000001')).state).toBe('running');
    expect(await staysFor(2000, () => fs.existsSync(onAlpha('film.bin')))).toBe(true);

    B = await startAgent(path.join(base, 'beta'), joinB);
    await waitFor('film.bin complete on beta', () => sameBytes(onBeta('film.bin'), nasFile('film.bin')), 45_000);
    expect(await crashed).toBe('SIGKILL');
    await restartNas();
    await waitFor('alpha lost film.bin', () => !fs.existsSync(onAlpha('film.bin')), 45_000);
    const done = await status('move-film-000001');
    expect(done).toMatchObject({ state: 'done', result: { to: ['beta'], removed: 1, removedFrom: 'alpha' } });
    expect(fs.existsSync(link('alpha', 'film.bin'))).toBe(false);
    expect(sameBytes(onBeta('film.bin'), nasFile('film.bin'))).toBe(true);
    // Once: one journal entry for the move, one for its finish (recovered forward, not rerun), both done.
    const journal = dbRows<{ action: string; state: string }>("SELECT action, state FROM journal WHERE request_id IN ('move-film-000001', 'movefin-move-film-000001') ORDER BY id");
    expect(journal).toEqual([{ action: 'move', state: 'done' }, { action: 'move-finish', state: 'done' }]);
    expect(dbRows<{ state: string }>("SELECT state FROM move_waits WHERE request_id = 'move-film-000001'")).toEqual([{ state: 'done' }]);
  }, 150_000);

  it('a target that never gets the file leaves it on the source, and the request says why', async () => {
    await stopProc(nas);
    const cfg = path.join(nasRoot, '.burrow', 'config.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(/^( {2}waitDays:) 7$/m, '$1 0.00005')); // 4.3 s
    await restartNas();
    await stopProc(B);
    B = null;
    const st = await request({ id: 'move-notes-00001', device: 'alpha', action: 'move', path: 'notes.txt', args: { to: ['beta'] } });
    expect(st.state, st.reason).toBe('running');
    const failed = await waitFor('the move to give up', async () => {
      const s = await status('move-notes-00001');
      return s.state === 'failed' ? s : null;
    }, 45_000, 200);
    expect(failed.reason).toMatch(/^beta did not get files\/notes\.txt within 4 seconds \(move\.waitDays in the NAS config\), so it stays on alpha\./);
    expect(sameBytes(onAlpha('notes.txt'), nasFile('notes.txt'))).toBe(true);
    expect(fs.statSync(link('alpha', 'notes.txt')).ino).toBe(fs.statSync(nasFile('notes.txt')).ino);
    expect(await staysFor(2000, () => fs.existsSync(onAlpha('notes.txt')))).toBe(true);
  }, 90_000);
});
