import fs from 'node:fs';
import { errors } from '../errors.js';

/** Hard links cannot cross filesystems, so files/, devices/ and shared/ must share st_dev. */
export function assertSameFilesystem(dirs: string[]): void {
  let first: { dir: string; dev: number } | undefined;
  for (const dir of dirs) {
    const st = fs.statSync(dir);
    if (!first) first = { dir, dev: st.dev };
    else if (st.dev !== first.dev) throw errors.crossDevice(first.dir, dir);
  }
}
