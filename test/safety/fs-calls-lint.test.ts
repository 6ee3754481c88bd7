import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The lint rule behind docs/ARCHITECTURE.md "Filesystem steps": only server/src/anchored-fs/
 * calls link, rename, unlink, mkdir, rm, rmdir (and their kin that create or remove names) on
 * the NAS root. A few files act on NAS state that exists before anything else (init, the lock,
 * keys) or outside the root; each is listed with its reason and its exact number of calls, so a
 * new call there fails too. server/src/sync/ is the engine's (it adopts anchored-fs separately).
 */
const SRC = path.resolve('server/src');
const SKIP_DIRS = ['anchored-fs', 'sync'];
const ALLOWED: Record<string, { calls: number; why: string }> = {
  'root/open-root.ts': { calls: 3, why: 'init creates the root and its layout before anything runs; start then refuses a files/ that is a symlink' },
  'root/lock.ts': { calls: 2, why: '.burrow/burrow.lock, NAS state' },
  'devices/join-string.ts': { calls: 2, why: '.burrow/keys, NAS state' },
  'fsutil/atomic-write.ts': { calls: 1, why: 'mkdir -p of a NAS state folder before an anchored write; never used for files/, devices/, shared/' },
  'root/state-modes.ts': { calls: 2, why: 'writes a secret file in .burrow/ (token, TLS key) 0600 from its first byte, then renames it into place: NAS state' },
  'http/tls.ts': { calls: 1, why: 'creates .burrow/tls/ (0700) for the self-signed certificate: NAS state' },
  'http/listen.ts': { calls: 1, why: 'removes .burrow/http.json at stop, only when this process wrote it: NAS state' },
  'nas-sync/service.ts': { calls: 1, why: 'only for a sync folder outside the root; inside it anchored-fs creates the folder' },
};

const CALL = /(?<![\w.$])(?:fs(?:\.promises)?|fsp|fsPromises)\.(link|rename|unlink|mkdir|rm|rmdir|symlink|copyFile|cp|writeFile|appendFile|truncate)(?:Sync)?\s*\(/g;
const IMPORT = /import\s*\{([^}]*)\}\s*from\s*['"](?:node:)?fs(?:\/promises)?['"]/g;
const NAMES = /\b(link|rename|unlink|mkdir|rm|rmdir|symlink|copyFile|cp|writeFile|appendFile|truncate)(?:Sync)?\b/;

function* tsFiles(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (dir === SRC && SKIP_DIRS.includes(e.name)) continue;
      yield* tsFiles(p);
    } else if (e.name.endsWith('.ts')) yield p;
  }
}

describe('only anchored-fs changes names on the root', () => {
  it('finds no link/rename/unlink/mkdir/rm/rmdir call outside server/src/anchored-fs (and the listed state files)', () => {
    const problems: string[] = [];
    const counts = new Map<string, number>();
    for (const file of tsFiles(SRC)) {
      const rel = path.relative(SRC, file).split(path.sep).join('/');
      const text = fs.readFileSync(file, 'utf8');
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line)) return;
        for (const m of line.matchAll(CALL)) {
          counts.set(rel, (counts.get(rel) ?? 0) + 1);
          if (!ALLOWED[rel]) problems.push(`server/src/${rel}:${i + 1}: ${m[0].trim()} — route it through server/src/anchored-fs`);
        }
      });
      for (const m of text.matchAll(IMPORT))
        if (NAMES.test(m[1]!)) problems.push(`server/src/${rel}: imports ${m[1]!.trim()} from node:fs directly — use server/src/anchored-fs`);
    }
    for (const [rel, a] of Object.entries(ALLOWED))
      if ((counts.get(rel) ?? 0) !== a.calls) problems.push(`server/src/${rel}: ${counts.get(rel) ?? 0} filesystem-changing calls, the allow-list expects ${a.calls} (${a.why})`);
    expect(problems).toEqual([]);
  });

  it('catches the calls it is meant to catch', () => {
    const sample = ['fs.linkSync(a, b);', 'await fs.promises.rename(a, b)', 'fsp.unlink(x)', 'fs.rmSync(d, { recursive: true })', 'this.fs.unlink(rel)', 'A.rename(a, b)'];
    expect(sample.map((s) => [...s.matchAll(CALL)].length)).toEqual([1, 1, 1, 1, 0, 0]);
  });
});
