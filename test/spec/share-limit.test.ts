import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { REPO, cli, sameBytes, startNas, stopProc, tempRoot, waitFor, type NasHandle } from '../agent/harness.js';
import { launchBrowser } from '../helpers/browser.js';
import { loginPage } from '../helpers/nas-auth.js';
import { api, type ReqStatus } from './nas-api.js';

/**
 * The spec's [share folder] "prompts for size in Mb ... translated into how much space is
 * available for the user". A real NAS and a real friend (`burrow sync` with the read-write
 * secret, a separate process) on 127.0.0.1: what fits in the limit joins files/; a file past it
 * does not, stays on both sides (nothing lost), and the friend finds REFUSED-over-limit.txt in
 * the folder; `burrow status --json` and the admin UI show use against the limit.
 */
let base: string;
let nasRoot: string;
let nas: NasHandle;
let friend: ChildProcess | null = null;
let browser: Browser | null = null;
const MiB = 1024 * 1024;

const friendFile = (rel: string) => path.join(base, 'friend', rel);
const nasFile = (rel: string) => path.join(nasRoot, 'files', rel);

beforeAll(async () => {
  base = tempRoot('burrow-spec-share-');
  nasRoot = path.join(base, 'nas');
  fs.mkdirSync(path.join(nasRoot, 'files', 'family'), { recursive: true });
  fs.writeFileSync(path.join(nasRoot, 'files', 'family', 'owner.txt'), 'the owner put this here\n');
  nas = await startNas(nasRoot);
}, 60_000);

afterAll(async () => {
  if (friend && friend.exitCode === null) {
    const gone = new Promise((r) => friend!.once('exit', r));
    friend.kill('SIGTERM');
    await gone;
  }
  await browser?.close();
  await stopProc(nas);
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('a shared folder with a size limit', () => {
  it('takes what fits, refuses a file past the limit without losing it, tells the friend, and shows use against the limit', async () => {
    const shared = await api<ReqStatus>(nasRoot, nas.url, 'POST', '/api/requests?wait=30000', { id: 'share-family-0001', device: '@nas', action: 'share-folder', path: 'family', args: { limitMb: 1 }, confirm: false });
    expect(shared.json.state, shared.json.reason).toBe('done');
    const { shareId } = shared.json.result as { shareId: string };
    // The read-write secret never travels over HTTP: the owner reads it on the NAS.
    const rw = cli(['secrets', `share:${shareId}`, '--read-write', '--json', '--root', nasRoot]);
    expect(rw.status, rw.stderr).toBe(0);
    const secrets = JSON.parse(rw.stdout) as { readWrite: string };

    friend = spawn(process.execPath, [path.join(REPO, 'bin', 'burrow.js'), 'sync', '--secret', secrets.readWrite, '--dir', path.join(base, 'friend'), '--listen', '0', '--host', '127.0.0.1', '--peer', `127.0.0.1:${nas.syncPort}`, '--no-dht'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let friendOut = '';
    friend.stdout!.on('data', (d) => (friendOut += d));
    friend.stderr!.on('data', (d) => (friendOut += d));
    await waitFor(`the friend has the shared folder (friend said: ${friendOut})`, () => fs.existsSync(friendFile('family/owner.txt')), 45_000);

    // 400 KB fits in 1 MiB: it joins the owner's files/family/.
    fs.writeFileSync(friendFile('family/photo-1.jpg'), crypto.randomBytes(400_000));
    await waitFor('photo-1.jpg in files/', () => sameBytes(nasFile('family/photo-1.jpg'), friendFile('family/photo-1.jpg')), 45_000);
    // 3 MB does not fit (in whichever order the two arrive); 500 KB more still does.
    fs.writeFileSync(friendFile('family/video.bin'), crypto.randomBytes(3_000_000));
    fs.writeFileSync(friendFile('family/photo-2.jpg'), crypto.randomBytes(500_000));
    await waitFor('photo-2.jpg in files/', () => sameBytes(nasFile('family/photo-2.jpg'), friendFile('family/photo-2.jpg')), 45_000);

    // The friend is told, in the folder they sync.
    const note = await waitFor('the note reaches the friend', () => {
      const p = friendFile('REFUSED-over-limit.txt');
      return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
    }, 45_000);
    expect(note).toMatch(/family\/video\.bin {2}\(2\.9 MiB\)/);
    expect(note).toContain('Nothing was deleted');
    await waitFor('burrow sync says so too', () => friendOut.includes(`the NAS did not take some files (over the shared folder's limit): see ${friendFile('REFUSED-over-limit.txt')}`), 15_000);
    // Past the limit: not in files/; nothing lost on either side.
    expect(fs.existsSync(nasFile('family/video.bin'))).toBe(false);
    expect(fs.statSync(friendFile('family/video.bin')).size).toBe(3_000_000);
    await waitFor('video.bin complete on the NAS share folder', () => sameBytes(path.join(nasRoot, 'shared', shareId, 'family', 'video.bin'), friendFile('family/video.bin')), 45_000);
    expect(fs.readdirSync(nasFile('family')).sort()).toEqual(['owner.txt', 'photo-1.jpg', 'photo-2.jpg']);

    // Use against the limit: burrow status --json ...
    const st = cli(['status', '--root', nasRoot, '--json']);
    expect(st.status, st.stderr).toBe(0);
    const folders = (JSON.parse(st.stdout) as { sharedFolders: unknown[] }).sharedFolders;
    expect(folders).toEqual([{ id: shareId, path: 'family', usedBytes: 900_000, limitBytes: MiB, refusedFiles: 1 }]);
    // ... the admin API, and the admin page.
    const rows = (await api<Array<Record<string, unknown>>>(nasRoot, nas.url, 'GET', '/api/admin/shares')).json;
    expect(rows).toEqual([expect.objectContaining({ id: shareId, usedBytes: 900_000, limitBytes: MiB, refusedFiles: 1 })]);
    browser = await launchBrowser();
    const page = await browser.newPage();
    await loginPage(page, nas.url, nasRoot);
    await page.goto(`${nas.url}/`);
    await page.waitForSelector('#share-rows .share-use');
    expect(await page.locator('#share-rows .share-use').innerText()).toMatch(/^878\.9 KiB \/ 1\.0 MiB \(1 refused: over the limit\)$/);
  }, 150_000);
});
