import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDevice, sameBytes, startAgent, startNas, stopProc, tempRoot, waitFor, type AgentHandle, type NasHandle } from '../agent/harness.js';
import { api, type ReqStatus } from '../spec/nas-api.js';

// Soak finding 8 (seed 505, 2026-12-03): alpha had got alpha-new-3-82.txt; the owner rewrote
// files/alpha-new-3-82.txt in place. devices/alpha/ holds the same inode, so the NAS's copy for
// alpha changed too, but the sync engine's watcher on devices/alpha/ never hears of a write made
// through files/: alpha kept the old version until the hourly reconcile.
let base: string;
let nasRoot: string;
let nas: NasHandle | null = null;
let A: AgentHandle | null = null;

const nasFile = (rel: string) => path.join(nasRoot, 'files', rel);
const onAlpha = (rel: string) => path.join(base, 'alpha', 'files', rel);

beforeAll(async () => {
  base = tempRoot('burrow-finding-store-edit-');
  nasRoot = path.join(base, 'nas');
  fs.mkdirSync(path.join(nasRoot, 'files', 'docs'), { recursive: true });
  fs.writeFileSync(nasFile('docs/notes.txt'), 'version 1\n');
  nas = await startNas(nasRoot);
  A = await startAgent(path.join(base, 'alpha'), addDevice(nasRoot, 'alpha'));
}, 120_000);

afterAll(async () => {
  await stopProc(A);
  await stopProc(nas);
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('an in-place edit of a store file a device holds', () => {
  it('reaches the device in seconds, though only files/ was written to', async () => {
    const r = await api<ReqStatus>(nasRoot, nas!.url, 'POST', '/api/requests?wait=30000', { id: 'get-notes-0001', device: 'alpha', action: 'get', path: 'docs/notes.txt', args: {}, confirm: false });
    expect(r.json.state).toBe('done');
    await waitFor('alpha holds version 1', () => sameBytes(onAlpha('docs/notes.txt'), nasFile('docs/notes.txt')));
    const inode = fs.statSync(nasFile('docs/notes.txt')).ino;
    // Let the scans the get set off (its new folder renews the engine's watch and walks
    // devices/alpha/) finish first: one of them would find the edit by chance.
    await new Promise((r) => setTimeout(r, 4000));

    const v2 = `version 2, rewritten in place over SMB ${crypto.randomBytes(8).toString('hex')}\n`;
    fs.writeFileSync(nasFile('docs/notes.txt'), v2); // O_TRUNC: the same inode, so devices/alpha/ changes too
    expect(fs.statSync(path.join(nasRoot, 'devices', 'alpha', 'docs', 'notes.txt')).ino).toBe(inode);
    await waitFor('alpha holds version 2', () => fs.existsSync(onAlpha('docs/notes.txt')) && fs.readFileSync(onAlpha('docs/notes.txt'), 'utf8') === v2, 20_000);
  }, 90_000);
});
