import fs from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Runs the longest test files first, by the seconds each took in a full run (test/file-durations.json,
 * from a clean-clone run of `npm test` with 3 workers on a 2-core machine). A clean clone has no
 * vitest cache, and without one vitest runs files in the order it found them: the 150-second torrent
 * file came last and ran alone, and 30-second files started in the last minute. Files not in the
 * table (new ones) go first, since nothing says they are short. Refresh the table after a big change:
 *   node scripts/update-test-durations.mjs   (after npm test)
 */
const table = JSON.parse(fs.readFileSync(new URL('./file-durations.json', import.meta.url), 'utf8')) as Record<string, number>;

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (f: TestSpecification): number => table[path.relative(this.ctx.config.root, f.moduleId).split(path.sep).join('/')] ?? Infinity;
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
