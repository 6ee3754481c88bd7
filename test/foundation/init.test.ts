import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { tempDir } from '../helpers/tmp.js';
import { burrow } from '../helpers/cli.js';
import { BurrowError } from '../../server/src/errors.js';
import { parseConfig } from '../../server/src/config/load.js';
import { CONFIG_TEMPLATE } from '../../server/src/config/template.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function tmp() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('burrow init', () => {
  it('creates the layout, a commented config and the database', () => {
    const root = path.join(tmp(), 'nas');
    const r = burrow(['init', '--root', root, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).root).toBe(root);
    for (const d of ['files', 'catalogue', 'devices', 'shared', '.burrow', '.burrow/trash', '.burrow/keys']) expect(fs.statSync(path.join(root, d)).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(root, '.burrow/keys')).mode & 0o777).toBe(0o700);
    const config = fs.readFileSync(path.join(root, '.burrow/config.yaml'), 'utf8');
    expect(config).toContain('# ');
    expect(fs.existsSync(path.join(root, '.burrow/burrow.db'))).toBe(true);
    // Twice is harmless and keeps the user's config.
    fs.appendFileSync(path.join(root, '.burrow/config.yaml'), '\n# mine\n');
    expect(burrow(['init', '--root', root]).status).toBe(0);
    expect(fs.readFileSync(path.join(root, '.burrow/config.yaml'), 'utf8')).toContain('# mine');
  });

  it('honours BURROW_ROOT', () => {
    const root = path.join(tmp(), 'envroot');
    expect(burrow(['init'], { env: { BURROW_ROOT: root } }).status).toBe(0);
    expect(fs.existsSync(path.join(root, 'files'))).toBe(true);
  });

  it('refuses when devices/ is on another filesystem than files/', () => {
    const other = fs.mkdtempSync('/dev/shm/burrow-test-');
    cleanups.push(() => fs.rmSync(other, { recursive: true, force: true }));
    if (fs.statSync(other).dev === fs.statSync(tmp()).dev) return console.warn('SKIPPED: /dev/shm is on the same filesystem as the temp dir here');
    const root = tmp();
    fs.symlinkSync(other, path.join(root, 'devices'));
    const r = burrow(['init', '--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/different filesystems/);
    expect(r.stderr).toMatch(/one filesystem/);
  });

  it('refuses a files/ that is itself a symlink', () => {
    const root = tmp();
    const elsewhere = tmp();
    fs.symlinkSync(elsewhere, path.join(root, 'files'));
    const r = burrow(['init', '--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/files is a symbolic link/);
  });

  it('refuses a read-only root with a clear message', (ctx) => {
    const root = tmp();
    const mounted = burrowMountTmpfs(root, 'ro');
    if (!mounted) {
      console.warn('SKIPPED loudly: cannot mount a read-only tmpfs here (needs root); read-only root not tested');
      return ctx.skip();
    }
    cleanups.unshift(() => umount(root));
    const r = burrow(['init', '--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not writable/);
  });

  it('refuses a root that does not exist, for every command that opens one', () => {
    const missing = path.join(tmp(), 'nope');
    for (const cmd of [['scan'], ['status'], ['start'], ['device', 'add', 'x']]) {
      const r = burrow([...cmd, '--root', missing]);
      expect(r.status, cmd.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/does not exist or is not a Burrow root/);
      expect(r.stderr).toMatch(/burrow init/);
    }
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe('config', () => {
  it('the template parses and every key has a default', () => {
    const c = parseConfig(CONFIG_TEMPLATE);
    expect(c.http.port).toBe(7420);
    expect(parseConfig('')).toEqual(c);
  });
  it('names the bad key and value', () => {
    expect(() => parseConfig('http:\n  port: "eighty"\n')).toThrow(/http\.port/);
    expect(() => parseConfig('htp:\n  port: 1\n')).toThrow(/"htp" is not a known key/);
    expect(() => parseConfig('http: [\n')).toThrow(/not valid YAML/);
  });
  it('a bad config stops start with the file named', () => {
    const root = tmp();
    initRoot(root);
    fs.writeFileSync(path.join(root, '.burrow/config.yaml'), 'index:\n  hashWorkers: 0\n');
    const r = burrow(['status', '--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/config\.yaml is invalid: index\.hashWorkers/);
  });
});

describe('database', () => {
  it('refuses a corrupt database and says how to rebuild, without touching files', () => {
    const root = tmp();
    initRoot(root);
    fs.writeFileSync(path.join(root, 'files/keep.txt'), 'precious');
    fs.writeFileSync(path.join(root, '.burrow/burrow.db'), Buffer.alloc(8192, 0x5a));
    fs.rmSync(path.join(root, '.burrow/burrow.db-wal'), { force: true });
    fs.rmSync(path.join(root, '.burrow/burrow.db-shm'), { force: true });
    const r = burrow(['scan', '--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/damaged or is not a Burrow database/);
    expect(r.stderr).toMatch(/burrow scan/);
    expect(fs.readFileSync(path.join(root, 'files/keep.txt'), 'utf8')).toBe('precious');
  });

  it('refuses a foreign SQLite database', async () => {
    const root = tmp();
    initRoot(root);
    const dbFile = path.join(root, '.burrow/burrow.db');
    fs.rmSync(dbFile);
    const { default: Database } = await import('better-sqlite3');
    const foreign = new Database(dbFile);
    foreign.exec('CREATE TABLE photos (id INTEGER)');
    foreign.close();
    expect(() => openRoot(root)).toThrow(BurrowError);
    const r = burrow(['status', '--root', root]);
    expect(r.stderr).toMatch(/not a Burrow database/);
  });

  it('refuses a database newer than the code', async () => {
    const root = tmp();
    initRoot(root);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path.join(root, '.burrow/burrow.db'));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('999_future.sql');
    db.close();
    const r = burrow(['scan', '--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/schema version 999/);
    expect(r.stderr).toMatch(/Upgrade Burrow/);
  });

  it('records every migration and uses WAL and foreign keys', () => {
    const root = tmp();
    initRoot(root);
    const r = openRoot(root);
    try {
      expect(r.store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(r.store.db.pragma('foreign_keys', { simple: true })).toBe(1);
      const versions = r.store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];
      expect(versions[0]).toBe(1);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    } finally {
      r.close();
    }
  });
});

import { spawnSync } from 'node:child_process';
function burrowMountTmpfs(dir: string, mode: 'ro' | 'rw'): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `${mode},size=1m`, 'tmpfs', dir]).status === 0;
}
function umount(dir: string): void {
  spawnSync('umount', [dir]);
}

describe('migrations', () => {
  it('applies a migration numbered below one already applied, and records each once', async () => {
    const { openDb } = await import('../../server/src/store/db.js');
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = path.join(dir.dir, 'm.db');
    const m1 = { version: 1, name: '001_a.sql', sql: 'CREATE TABLE a (x)' };
    const m3 = { version: 3, name: '003_c.sql', sql: 'CREATE TABLE c (x)' };
    const m2 = { version: 2, name: '002_b.sql', sql: 'CREATE TABLE b (x)' };
    openDb(file, { migrations: [m1, m3] }).close();
    const db = openDb(file, { migrations: [m1, m2, m3] });
    try {
      expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual([1, 2, 3]);
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('a','b','c')").pluck().get()).toBe(3);
    } finally {
      db.close();
    }
  });
});
