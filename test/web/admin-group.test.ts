import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { MembersRepo } from '../../server/src/store/members-repo.js';
import { PlacementRepo } from '../../server/src/store/placement-repo.js';
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

  it('lists which zones hold each folder and warns per file, once the placement is worked out', async () => {
    const r = openRoot(t.dir);
    const now = Date.now();
    new PlacementRepo(r.store.db).replace(
      {
        computedAt: now,
        required: 2,
        files: 10,
        under: 3,
        samples: ['<i>new</i>/a.jpg', 'docs/b.pdf', 'docs/c.pdf'],
        members: [
          { id: 'aaaaaaaaaaaaaaaa', name: 'home', zone: 'isp-a', counted: true, why: null },
          { id: 'cccccccccccccccc', name: 'parents', zone: 'isp-b', counted: false, why: 'reachable 0 % of the last 7 days, under cluster.minAvailabilityPercent (50 %)' },
        ],
      },
      [
        { path: '', files: 10, bytes: 1000, zones: ['isp-a'], under: 3 },
        { path: '<i>new</i>', files: 1, bytes: 100, zones: ['isp-a'], under: 1 },
        { path: 'photos', files: 7, bytes: 700, zones: ['isp-a', 'isp-b'], under: 0 },
      ],
    );
    r.close();
    const page = await (await browser.newContext()).newPage();
    await loginPage(page, nas.url, t.dir);
    await page.goto(`${nas.url}/#sync`);
    await page.waitForFunction(() => document.querySelectorAll('#zone-rows tr').length === 3);
    const rows = await page.locator('#zone-rows tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    // Folders with files in too few zones first; a folder name is text, never markup.
    expect(rows).toEqual([
      ['files/ (everything)', '10', '1000 B', 'isp-a', '3'],
      ['<i>new</i>/', '1', '100 B', 'isp-a', '1'],
      ['photos/', '7', '700 B', 'isp-a, isp-b', '0'],
    ]);
    await expect.poll(() => page.locator('#zone-state').textContent()).toMatch(/^7 of 10 files in 2 zone\(s\) or more, as of \d+ s ago\.$/);
    const warnings = await page.locator('#group-warnings li').allTextContents();
    expect(warnings).toContain('3 of 10 files are kept in fewer than 2 zones (e.g. "<i>new</i>/a.jpg", "docs/b.pdf", "docs/c.pdf"): a cut of that zone makes them unreachable');
    expect(warnings.some((w) => w.startsWith('member parents (cccccccccccccccc) does not count as a copy: reachable 0 %'))).toBe(true);
    expect(warnings.some((w) => w.includes('held in 1 zone(s)'))).toBe(false); // the per-member guess gives way to the per-file count
    await page.context().close();
  });
});
