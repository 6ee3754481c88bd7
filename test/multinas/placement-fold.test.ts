import { afterAll, describe, expect, it } from 'vitest';
import { PlacementFold, countedMembers } from '../../server/src/nas-cluster/placement.js';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { PlacementRepo } from '../../server/src/store/placement-repo.js';
import { tempDir } from '../helpers/tmp.js';

const t = tempDir('burrow-placement-repo-');
afterAll(() => t.cleanup());

/** Files come from the sync index in no particular order: fed here back to front. */
function fold(required: number, files: Array<[string, number, string[]]>) {
  const f = new PlacementFold(required);
  const sorted = [...files].reverse();
  for (const [p, size, zones] of sorted) f.add(p, size, new Set(zones));
  return { rows: f.finish(), under: f.under, files: f.files, samples: f.samples };
}

describe('which zones hold each folder', () => {
  it('a folder is held by the zones that hold every file below it; deeper folders are shown only where they differ', () => {
    const r = fold(2, [
      ['photos/2024/a.jpg', 10, ['home', 'parents']],
      ['photos/2024/b.jpg', 20, ['home', 'parents']],
      ['photos/2025/new.jpg', 5, ['home']], // not replicated yet
      ['photos/top.jpg', 1, ['home', 'parents']],
      ['photos b/x', 1, ['home', 'parents']], // " " sorts before "/": not inside photos/
      ['photos-old/y', 1, ['parents']],
      ['readme.txt', 3, ['home', 'parents']],
    ]);
    const by = new Map(r.rows.map((x) => [x.path, x]));
    expect(by.get('')).toEqual({ path: '', files: 7, bytes: 41, zones: [], under: 2 });
    expect(by.get('photos')).toEqual({ path: 'photos', files: 4, bytes: 36, zones: ['home'], under: 1 });
    expect(by.get('photos b')).toMatchObject({ files: 1, zones: ['home', 'parents'], under: 0 });
    expect(by.get('photos-old')).toMatchObject({ files: 1, zones: ['parents'], under: 1 });
    // photos/2024 is held by both zones, unlike photos itself: shown. photos/2025 is like photos: not.
    expect(by.get('photos/2024')).toMatchObject({ files: 2, bytes: 30, zones: ['home', 'parents'], under: 0 });
    expect(by.has('photos/2025')).toBe(false);
    expect(r.rows.map((x) => x.path).sort()).toEqual(['', 'photos', 'photos b', 'photos-old', 'photos/2024']);
    expect(r.under).toBe(2);
    expect(r.samples.sort()).toEqual(['photos-old/y', 'photos/2025/new.jpg']);
  });

  it('deep trees, names with any Unicode, and a lone top-level file', () => {
    const r = fold(1, [
      ['a/b/c/d/e/f.txt', 1, ['z1']],
      ['a/b/c/d/g.txt', 1, ['z1', 'z2']],
      ['a/b/ü/ß/雪', 1, ['z1']],
      ['a/b/<script>\n"x"/1', 1, ['z2']],
      ['lone', 1, ['z1']],
    ]);
    const by = new Map(r.rows.map((x) => [x.path, x]));
    expect(by.get('a')).toMatchObject({ files: 4, zones: [], under: 0 });
    expect(by.get('a/b/<script>\n"x"')).toMatchObject({ files: 1, zones: ['z2'] });
    expect(by.get('a/b/ü')).toMatchObject({ files: 1, zones: ['z1'] });
    expect(by.get('a/b/c')).toMatchObject({ files: 2, zones: ['z1'] });
    expect(by.has('a/b/ü/ß')).toBe(false); // same zones as its parent
    expect(by.has('a/b/c/d/e')).toBe(false); // deeper than MAX_DEPTH: counted in a/b/c/d
    expect(by.get('')).toMatchObject({ files: 5 });
    expect(r.under).toBe(0);
  });

  it('a member that is rarely up does not count as a copy, once it has been known an hour', () => {
    const m = countedMembers({
      self: { id: 'a', name: 'home', zone: 'isp-a' },
      others: [
        { id: 'b', name: 'parents', zone: 'isp-b', syncDevice: 'B', availability: 0.9, knownForMs: 7 * 86400_000 },
        { id: 'c', name: 'flaky', zone: 'isp-c', syncDevice: 'C', availability: 0.2, knownForMs: 7 * 86400_000 },
        { id: 'd', name: 'new', zone: 'isp-d', syncDevice: 'D', availability: 0.1, knownForMs: 60_000 },
        { id: 'e', name: 'silent', zone: 'isp-e', syncDevice: undefined, availability: 1, knownForMs: 7 * 86400_000 },
      ],
      required: 2,
      minAvailability: 0.5,
    });
    expect(m.map((x) => [x.id, x.counted])).toEqual([['a', true], ['b', true], ['c', false], ['d', true], ['e', false]]);
    expect(m.find((x) => x.id === 'c')!.why).toMatch(/reachable 20 % of the last 7 days/);
  });

  it('a computation that started earlier never overwrites one that started later (the NAS and nas list both store theirs)', () => {
    initRoot(t.dir);
    const r = openRoot(t.dir);
    try {
      const repo = new PlacementRepo(r.store.db);
      const at = (computedAt: number, required: number) => ({ computedAt, required, files: 1, under: 0, samples: [], members: [] });
      expect(repo.replace(at(2000, 2), [{ path: '', files: 1, bytes: 1, zones: ['a', 'b'], under: 0 }])).toBe(true);
      expect(repo.replace(at(1000, 1), [{ path: '', files: 1, bytes: 1, zones: ['a'], under: 0 }])).toBe(false); // started first, finished last
      expect(repo.summary()).toMatchObject({ computedAt: 2000, required: 2 });
      expect(repo.folders()).toEqual([{ path: '', files: 1, bytes: 1, zones: ['a', 'b'], under: 0 }]);
      expect(repo.replace(at(3000, 1), [])).toBe(true);
      expect(repo.summary()).toMatchObject({ computedAt: 3000, required: 1 });
    } finally {
      r.close();
    }
  });
});
