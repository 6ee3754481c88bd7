import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SyncEngine, type SyncEngineOptions } from '../../server/src/sync/index.js';

const created: string[] = [];
// Remove this file's temp dirs (tests write hundreds of MiB) once its tests are done.
afterAll(async () => {
  for (const d of created.splice(0)) await fs.promises.rm(d, { recursive: true, force: true }).catch(() => undefined);
});

export async function tmpDir(prefix = 'burrow-sync-'): Promise<string> {
  const d = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(d);
  return d;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function engine(root: string, name: string, extra: Partial<SyncEngineOptions> = {}): Promise<SyncEngine> {
  const e = new SyncEngine({
    stateDir: path.join(root, name + '-state'),
    listen: { host: '127.0.0.1', port: 0 },
    dialIntervalMs: 200,
    rescanIntervalMs: 0,
    watch: false,
    ...extra,
  });
  await e.open();
  return e;
}

export async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [p, c] of Object.entries(files)) {
    const f = path.join(dir, p);
    await fs.promises.mkdir(path.dirname(f), { recursive: true });
    await fs.promises.writeFile(f, c);
  }
}

export async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.promises.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? rel + '/' + e.name : e.name;
      if (r === '.burrow-sync') continue;
      if (e.isDirectory()) await walk(r);
      else {
        const st = await fs.promises.stat(path.join(dir, r));
        out[r] = st.size > 1024 * 1024 ? `<${st.size} bytes>` : (await fs.promises.readFile(path.join(dir, r))).toString('utf8');
      }
    }
  };
  await walk('');
  return out;
}

export async function fileHash(f: string): Promise<string | null> {
  try {
    const h = crypto.createHash('sha256');
    for await (const chunk of fs.createReadStream(f, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
    return h.digest('hex');
  } catch {
    return null;
  }
}

/** Compare two files by streaming hash (never loads big files whole). */
export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([fs.promises.stat(a), fs.promises.stat(b)]);
    if (sa.size !== sb.size) return false;
  } catch {
    return false;
  }
  const [x, y] = await Promise.all([fileHash(a), fileHash(b)]);
  return x !== null && x === y;
}

/** Recursively read every file under dir as one buffer list (for grep-style checks). */
export async function allBytes(dir: string): Promise<Array<{ file: string; data: Buffer }>> {
  const out: Array<{ file: string; data: Buffer }> = [];
  const walk = async (d: string): Promise<void> => {
    let ents: fs.Dirent[];
    try {
      ents = await fs.promises.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) await walk(f);
      else if (e.isFile()) out.push({ file: f, data: await fs.promises.readFile(f) });
    }
  };
  await walk(dir);
  return out;
}

/**
 * Compile the engine and its CLI commands to plain JS in a temp dir, for tests
 * that must run them in child processes (network namespaces, the CLI).
 */
export async function buildForChildren(): Promise<string> {
  const repo = path.resolve(__dirname, '../..');
  const out = await tmpDir('burrow-sync-build-');
  execFileSync(
    path.join(repo, 'node_modules/.bin/tsc'),
    [
      '--outDir', out, '--rootDir', repo, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--skipLibCheck', '--esModuleInterop', '--types', 'node',
      path.join(repo, 'server/src/sync/index.ts'),
      path.join(repo, 'server/src/sync/discovery/bittorrent-dht.d.ts'),
      path.join(repo, 'server/src/cli/commands/sync.ts'),
      path.join(repo, 'server/src/cli/commands/secret.ts'),
    ],
    { stdio: 'inherit' },
  );
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(out, 'node_modules'));
  // The CLI finds its installation folder (package.json + migrations/) and reads web/format-bytes.js from it.
  for (const dir of ['migrations', 'web']) fs.symlinkSync(path.join(repo, dir), path.join(out, dir));
  fs.writeFileSync(
    path.join(out, 'cli.mjs'),
    "import { Command } from 'commander';\nimport { register as sync } from './server/src/cli/commands/sync.js';\nimport { register as secret } from './server/src/cli/commands/secret.js';\nconst p = new Command('burrow');\nsync(p);\nsecret(p);\nawait p.parseAsync(process.argv);\n",
  );
  return out;
}
