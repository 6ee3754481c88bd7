import { afterAll, describe, expect, it } from 'vitest';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { MembersRepo } from '../../server/src/store/members-repo.js';
import { burrow } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `burrow availability` summarises the other members of a NAS group beside the devices: the log
 * each member keeps of when it had a live link to the others (issue 15's availability log).
 */
const t = tempDir('burrow-member-availability-');
afterAll(() => t.cleanup());

const HOUR = 3_600_000;
type Summary = { days: number; devices: Array<{ device: string }>; members: Array<{ member: string; name: string; zone: string; fraction: number; spans: Array<{ from: number; to: number }>; lastSeen: number | null }> };

describe('availability of the other members of a group', () => {
  it('lists each other member with its share of the window, by id or name, and refuses an unknown one', () => {
    initRoot(t.dir);
    const r = openRoot(t.dir);
    addDevice(r, 'laptop', null);
    const repo = new MembersRepo(r.store.db);
    const now = Date.now();
    repo.upsert({ id: 'aaaaaaaaaaaaaaaa', name: 'home', addresses: ['10.0.1.2:7421'], zone: '10.0.1', joinedAt: now - 48 * HOUR }, true);
    repo.upsert({ id: 'bbbbbbbbbbbbbbbb', name: 'parents', addresses: ['10.0.2.2:7421'], zone: '10.0.2', joinedAt: now - 48 * HOUR });
    repo.upsert({ id: 'cccccccccccccccc', name: 'never-up', addresses: ['10.0.3.2:7421'], zone: '10.0.3', joinedAt: now - 48 * HOUR });
    // parents: up for 12 hours, then a 6-hour cut, then up again for the last 6 hours (a link seen every minute).
    for (let at = now - 24 * HOUR; at <= now - 12 * HOUR; at += 60_000) repo.markReachable('bbbbbbbbbbbbbbbb', at, 90_000);
    for (let at = now - 6 * HOUR; at <= now; at += 60_000) repo.markReachable('bbbbbbbbbbbbbbbb', at, 90_000);
    r.close();

    const all = burrow(['availability', '--days', '1', '--json', '--root', t.dir]);
    expect(all.status, all.stderr).toBe(0);
    const s = JSON.parse(all.stdout) as Summary;
    expect(s.devices.map((d) => d.device)).toEqual(['laptop']);
    expect(s.members.map((m) => m.name)).toEqual(['parents', 'never-up']); // not this NAS itself
    const parents = s.members[0]!;
    expect(parents).toMatchObject({ member: 'bbbbbbbbbbbbbbbb', zone: '10.0.2' });
    expect(parents.spans).toHaveLength(2);
    expect(parents.fraction).toBeGreaterThan(0.74);
    expect(parents.fraction).toBeLessThan(0.76);
    expect(s.members[1]).toMatchObject({ fraction: 0, spans: [], lastSeen: null });

    const one = JSON.parse(burrow(['availability', '--member', 'parents', '--json', '--root', t.dir]).stdout) as Summary;
    expect(one.devices).toEqual([]); // naming a member leaves the devices out
    expect(one.members.map((m) => m.member)).toEqual(['bbbbbbbbbbbbbbbb']);
    expect((JSON.parse(burrow(['availability', '--device', 'laptop', '--json', '--root', t.dir]).stdout) as Summary).members).toEqual([]);

    const text = burrow(['availability', '--days', '1', '--root', t.dir]).stdout;
    expect(text).toMatch(/NAS parents \(bbbbbbbbbbbbbbbb, zone 10\.0\.2\): reachable 7\d\.\d% of the last 1 day\(s\) \(18\.0 h in 2 stretch\(es\)\)/);
    const bad = burrow(['availability', '--member', 'nobody', '--root', t.dir]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('No other NAS of this group is named "nobody"');
    expect(bad.stderr).toContain('burrow nas list');
  });
});
