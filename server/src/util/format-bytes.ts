import fs from 'node:fs';
import { repoPath } from './repo-path.js';

/**
 * The one way Burrow writes a byte count for people ("3.3 MiB"). Its source is web/format-bytes.js,
 * shared as text with the admin page and the catalogue, so the browser pages and the CLI cannot
 * drift apart, and the catalogue's bytes do not depend on which compiler built this module.
 */
const SOURCE = fs.readFileSync(repoPath('web', 'format-bytes.js'), 'utf8');

export const formatBytes = new Function(`${SOURCE}\nreturn formatBytes;`)() as (n: number) => string;

/** The formatter's source, a plain script defining `formatBytes`, for pages that inline it. */
export function formatBytesSource(): string {
  return SOURCE;
}
