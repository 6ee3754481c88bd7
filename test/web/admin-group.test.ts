import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { MembersRepo } from '../../server/src/store/members-repo.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { launchBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/tmp.js';
import { loopbackConfig } from '../helpers/config.js';
import { loginPage, ownerFetch } from '../helpers/nas-auth.js';

/**
 * The admin UI's "Several NAS" block (issue 15): every member with its zone, when it was last
 * reachable, its availability over 7 days and what it holds; the zone rule's warning and a full
 * disk are said in words. The group is written straight into the database (no group secret, so
 * no cluster link is dialled: nothing leaves 127.0.0.1).
 */
const t = tempDir('burrow-admin-group-');
let nas: RunningNas;
let browser: Browser;
const HOUR = 3_600_000;

beforeAll(async () => {
  initRoot(t.dir);
  loopbackConfig(t.dir);
  const r = openRoot(t.dir);
  const m = new MembersRepo(r.store.db);
  const now = Date.now();
  m.upsert({ id: 'aaaaaaaaaaaaaaaa', name: 'home', addresses: ['127.0.0.1:1'], zone: 'isp-a', joinedAt: now - 200 * HOUR }, true);
  m.upsert({ id: 'bbbbbbbbbbbbbbbb', name: 'attic <b>', addresses: ['127.0.0.1:2'], zone: 'isp-a', joinedAt: now - 200 * HOUR });
  m.upsert({ id: 'cccccccccccccccc', name: 'parents', addresses: ['127.0.0.1:3'], zone: 'isp-b', joinedAt: now - 200 * HOUR });
  m.setUsage('aaaaaaaaaaaaaaaa', { heldFiles: 10, heldBytes: 1000, freeBytes: 1e9, diskFull: false, at: now });
  m.setUsage('bbbbbbbbbbbbbbbb', { heldFiles: 10, heldBytes: 1000, freeBytes: 1e9, diskFull: false, at: now });
  m.setUsage('cccccccccccccccc', { heldFiles: 4, heldBytes: 400, freeBytes: 0, diskFull: true, at: now });
  // attic: up the whole of the last 42 hours (a quarter of 7 days); parents: never reached.
  for (let at = now - 42 * HOUR; at <= now; at += 60_000) m.markReachable('bbbbbbbbbbbbbbbb', at, 90_000);
  r.close();
  nas = await startNas(t.dir, { port: 0, host: '127.0.0.1' });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await nas?.stop();
  t.cleanup();
});

describe('admin UI: several NAS', () => {
  it('lists the members with zone, reachability, availability and holdings, and says what is wrong', async () => {
    const api = (await (await ownerFetch(t.dir, `${nas.url}/api/admin/group`)).json()) as { zonesHoldingAll: string[]; warnings: string[]; members: Array<{ id: string; availability7d: number | null }> };
    expect(api.zonesHoldingAll).toEqual(['isp-a']);
    expect(api.members.find((x) => x.id === 'bbbbbbbbbbbbbbbb')!.availability7d).toBeCloseTo(0.25, 2);
    expect(api.members.find((x) => x.id === 'aaaaaaaaaaaaaaaa')!.availability7d).toBeNull();

    const page = await (await browser.newContext()).newPage();
    await loginPage(page, nas.url, t.dir);
    await page.goto(`${nas.url}/#sync`);
    await page.waitForFunction(() => document.querySelectorAll('#member-rows tr').length === 3);
    const rows = await page.locator('#member-rows tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows[0]).toEqual(['home (this NAS) · aaaaaaaaaaaaaaaa', 'isp-a', '127.0.0.1:1', 'now', '—', '10 files, 1000 B']);
    expect(rows[1]!.slice(0, 3)).toEqual(['attic <b> · bbbbbbbbbbbbbbbb', 'isp-a', '127.0.0.1:2']); // a name is text, never markup
    expect(rows[1]![4]).toMatch(/^2[45]\.\d %$/);
    expect(rows[2]![3]).toBe('never');
    expect(rows[2]![5]).toBe('4 files, 400 B — DISK FULL: takes no new files');
    await expect.poll(() => page.locator('#group-state').textContent()).toBe('3 members in 2 zone(s); the whole store is held in isp-a; every file should be in 2 zone(s).');
    const warnings = await page.locator('#group-warnings li').allTextContents();
    expect(warnings.some((w) => w.includes('held in 1 zone(s) (isp-a), fewer than 2'))).toBe(true);
    expect(warnings.some((w) => w.includes('member parents (cccccccccccccccc) has a full disk'))).toBe(true);
    await page.locator('#sync').screenshot({ path: 'test-artifacts/admin-sync-group-desktop.png' });
    await page.context().close();
  });
});
