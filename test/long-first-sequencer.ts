import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The longest test files, longest first (seconds on a quiet 2-core machine, 2026-12-02). A clean
 * clone has no vitest cache, and without one vitest runs files in the order it found them: the
 * 140-second torrent file came last and ran alone for its whole length. Starting the long files
 * first lets the short ones fill in beside them. Update when a file's length changes a lot.
 */
const LONGEST = [
  'test/torrent/peer-wire.test.ts', // 144
  'test/sync/index-delta.test.ts', // 50
  'test/agent/e2e.test.ts', // 41
  'test/auth/cli.test.ts', // 41
  'test/sync/three-peers.test.ts', // 41
  'test/catalogue/page-http.test.ts', // 37
  'test/input/fuzz.test.ts', // 30
  'test/sync/behaviour.test.ts', // 30
  'test/catalogue/page-file.test.ts', // 30
  'test/input/flood.test.ts', // 26
  'test/multinas/zones-crash.test.ts', // 25
  'test/multinas/two-zones-netns.test.ts', // 24
  'test/requests/crash.test.ts', // 24
  'test/catalogue/page-hostile-phone.test.ts', // 24
  'test/web/admin-actions.test.ts', // 24
  'test/web/admin-sync.test.ts', // 24
  'test/web/phone-app.test.ts', // 23
];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = LONGEST.indexOf(path.relative(this.ctx.config.root, f.moduleId).split(path.sep).join('/'));
      return i < 0 ? LONGEST.length : i;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
  }
}
