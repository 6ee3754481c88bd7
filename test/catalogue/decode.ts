import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

export interface DecodedEntry {
  path: string;
  kind: 'f' | 'd';
  size: number;
  mtime: number;
  holders: string[];
}

/** Run a data script the way the page does (it only calls one global) and return its arguments. */
export function runDataScript(file: string, fn: string): unknown[] {
  let got: unknown[] | null = null;
  vm.runInNewContext(fs.readFileSync(file, 'utf8'), { [fn]: (...a: unknown[]) => (got = a) });
  if (!got) throw new Error(`${file} did not call ${fn}`);
  return got;
}

/** Decode every shard of a published catalogue, independently of the page's own decoder. */
export function decodeCatalogue(catalogueDir: string): { index: { chunks: string[]; devices: string[]; trashDays: number }; entries: DecodedEntry[] } {
  const [index] = runDataScript(path.join(catalogueDir, 'data', 'index.js'), 'BURROW_INDEX') as [{ chunks: string[]; devices: string[]; trashDays: number }];
  const entries: DecodedEntry[] = [];
  for (const name of index.chunks) {
    const [gotName, data] = runDataScript(path.join(catalogueDir, 'data', `c-${name}.js`), 'BURROW_CHUNK') as [string, string];
    if (gotName !== name) throw new Error(`shard ${name} calls itself ${gotName}`);
    const f = data.split('|');
    let prev = '';
    for (let i = 0; i + 6 <= f.length; i += 6) {
      const rest = f[i + 1]!.replace(/\\([\s\S])/g, (_m, c: string) => (c === '!' ? '|' : c));
      const p = prev.slice(0, parseInt(f[i]!, 36)) + rest;
      entries.push({ path: p, kind: f[i + 2] as 'f' | 'd', size: parseInt(f[i + 3]! || '0', 36), mtime: parseInt(f[i + 4]!, 36), holders: f[i + 5] ? f[i + 5]!.split('/') : [] });
      prev = p;
    }
  }
  return { index, entries };
}
