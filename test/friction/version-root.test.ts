import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BURROW_BIN, REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** The CLI as a new user runs it: from some folder, with neither --root nor BURROW_ROOT. */
function bare(args: string[], cwd: string, argv0: string[] = [process.execPath, BURROW_BIN]) {
  const env = { ...process.env, BURROW_LOG_LEVEL: 'warn' };
  delete env.BURROW_ROOT;
  const r = spawnSync(argv0[0]!, [...argv0.slice(1), ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a new user at the command line', () => {
  const version = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

  it('burrow --version and -V print the package.json version, and ./burrow runs the CLI', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    for (const flag of ['--version', '-V']) {
      const r = bare([flag], t.dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
    // The wrapper the README documents, run from another folder.
    const w = bare(['--version'], t.dir, ['sh', path.join(REPO, 'burrow')]);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout.trim()).toBe(version);
  });

  it('without --root or BURROW_ROOT, commands refuse with a clear error and create nothing', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    for (const args of [['init'], ['status'], ['device', 'add', 'laptop'], ['scan']]) {
      const r = bare(args, t.dir);
      expect(r.status, `${args.join(' ')}: ${r.stdout}`).toBe(1);
      expect(r.stderr).toContain('no root: pass --root <dir> or set BURROW_ROOT');
    }
    expect(fs.readdirSync(t.dir)).toEqual([]); // no ./demo-nas made behind the user's back
    expect(bare(['status', '--help'], t.dir).stdout).toMatch(/--root <dir>\s+the NAS root folder \(required; or set BURROW_ROOT\)/);
    // BURROW_ROOT still works.
    const env = { ...process.env, BURROW_ROOT: path.join(t.dir, 'nas') };
    const ok = spawnSync(process.execPath, [BURROW_BIN, 'init'], { cwd: t.dir, env, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(fs.existsSync(path.join(t.dir, 'nas', '.burrow', 'burrow.db'))).toBe(true);
  });
});
