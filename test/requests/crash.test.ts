/**
 * Crash safety: every action is driven through a kill -9 (the BURROW_FAULT_AFTER_STEP hook) at
 * every step of its journaled plan, via the real CLI (dist/); then the NAS restarts (in this
 * process: the processor opens, recovers, and gets the same request id again).
 * After the restart the root must look exactly like a root where the request ran once without a
 * crash: nothing lost from files/, no stray link, the request done exactly once.
 * Needs `npm run build` first (npm test does it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { Indexer } from '../../server/src/index/indexer.js';
import { createLogger } from '../../server/src/log.js';
import { RequestProcessor } from '../../server/src/requests/processor.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { BURROW_BIN } from '../helpers/cli.js';
import { requestBody } from '../../server/src/cli/commands/request.js';

interface Scenario {
  action: string;
  files: Record<string, string>;
  /** Requests run before the one under test (in-process, no fault). */
  setup?: Array<{ action: string; path: string; device?: string; args?: Record<string, unknown> }>;
  /** CLI arguments after "request"; may use what setup returned. */
  cli: (setupResults: Array<Record<string, unknown>>) => string[];
  /** The request's state once its plan is done ('running' for a move waiting for its targets). */
  settled?: 'running';

}

const SCENARIOS: Scenario[] = [
  { action: 'get', files: { 'a/b/c.txt': 'c' }, cli: () => ['get', 'a/b/c.txt', '--device', 'phone'] },
  { action: 'get', files: { 'm/1.mp3': '1', 'm/2.mp3': '2', 'm/sub/3.mp3': '3' }, cli: () => ['get', 'm', '--device', 'phone'] },
  { action: 'delete', files: { 'd/1.txt': '1', 'd/x/2.txt': '2' }, setup: [{ action: 'get', path: 'd' }], cli: () => ['delete', 'd', '--device', 'phone'] },
  {
    action: 'destroy',
    files: { 't/a.jpg': 'a', 't/day/b.jpg': 'b', 'keep.txt': 'k' },
    setup: [{ action: 'get', path: 't' }, { action: 'get', path: 't/day', device: 'laptop' }, { action: 'share', path: 't/a.jpg' }],
    cli: () => ['destroy', 't', '--yes'],
  },
  { action: 'destroy-folder', files: { 'c/a.doc': 'a', 'c/m/b.doc': 'b' }, setup: [{ action: 'get', path: 'c' }], cli: () => ['destroy-folder', 'c', '--yes'] },
  { action: 'move', files: { 'v/f.mkv': 'f', 'v/g.mkv': 'g' }, setup: [{ action: 'get', path: 'v' }], cli: () => ['move', 'v', '--device', 'phone', '--to', 'laptop'], settled: 'running' },
  { action: 'mkdir', files: { 'docs/a.txt': 'a' }, setup: [{ action: 'get', path: 'docs' }], cli: () => ['mkdir', 'docs', '--name', 'New'] },
  { action: 'share', files: { 'p/x.jpg': 'x', 'p/y/z.jpg': 'z' }, cli: () => ['share', 'p'] },
  { action: 'revoke', files: { 'r.txt': 'r' }, setup: [{ action: 'share', path: 'r.txt' }], cli: (s) => ['revoke', 'r.txt', '--share-id', String(s[0]!.shareId)] },
  { action: 'share-folder', files: { 'fam/a.jpg': 'a', 'fam/b/c.jpg': 'c' }, cli: () => ['share-folder', 'fam', '--limit-mb', '10'] },
  {
    action: 'revoke-share',
    files: { 'fam/a.jpg': 'a', 'fam/b/c.jpg': 'c' },
    setup: [{ action: 'share-folder', path: 'fam', args: { limitMb: 10 } }],
    cli: (s) => ['revoke-share', 'fam', '--share-id', String(s[0]!.shareId)],
  },
];

const tmp = tempDir('burrow-crash-');
afterAll(() => tmp.cleanup());
let rootNo = 0;

async function prepareRoot(sc: Scenario): Promise<{ root: string; setupResults: Array<Record<string, unknown>> }> {
  const root = path.join(tmp.dir, `r${rootNo++}`);
  initRoot(root);
  const r = openRoot(root);
  addDevice(r, 'phone', null);
  addDevice(r, 'laptop', null);
  writeFiles(r.layout.files, sc.files);
  const log = createLogger('silent');
  const indexer = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, log);
  indexer.reconcile();
  const proc = new RequestProcessor({ layout: r.layout, config: r.config, store: r.store, log, services: new Map(), events: new EventEmitter(), refresh: (p) => indexer.refresh(p) });
  await proc.open();
  const setupResults: Array<Record<string, unknown>> = [];
  for (const [i, s] of (sc.setup ?? []).entries()) {
    const st = await proc.submit({ id: `setup-request-${i}`, device: s.device ?? (s.action === 'get' ? 'phone' : '@nas'), action: s.action, path: s.path, args: s.args ?? {} }, 'cli').done;
    if (st.state !== 'done') throw new Error(`setup ${s.action} failed: ${st.reason}`);
    setupResults.push(st.result as Record<string, unknown>);
  }
  await indexer.close();
  r.close();
  return { root, setupResults };
}

/** The request body the CLI builds from these arguments (the same mapping as `burrow request`). */
function bodyOf(cli: string[], id: string): Record<string, unknown> {
  const [action, p, ...rest] = cli;
  const opt = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  return requestBody(action!, p!, { device: opt('--device'), to: opt('--to'), name: opt('--name'), limitMb: opt('--limit-mb'), shareId: opt('--share-id'), yes: rest.includes('--yes'), id });
}

/** A restart in this process: open the root, let the processor recover, send the same request again. */
async function runInProcess(root: string, body: Record<string, unknown>): Promise<{ state: string; reason?: string }> {
  const r = openRoot(root);
  const log = createLogger('silent');
  const indexer = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, log);
  try {
    const proc = new RequestProcessor({ layout: r.layout, config: r.config, store: r.store, log, services: new Map(), events: new EventEmitter(), refresh: (p) => indexer.refresh(p) });
    await proc.open();
    const st = await proc.submit(body, 'cli').done;
    await proc.idle();
    return st;
  } finally {
    await indexer.close();
    r.close();
  }
}

function runCli(root: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BURROW_BIN, 'request', ...args, '--root', root, '--json'], { env: { ...process.env, BURROW_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * The root's shape: every folder and file under files/, devices/, shared/ and the trash, each
 * file with the other paths that share its inode. Dates in generated names are masked, since
 * separate roots run at separate seconds.
 */
function snapshot(root: string): string[] {
  const byIno = new Map<number, string[]>();
  const dirs: string[] = [];
  const mask = (p: string) => p.replace(/\d{4}-\d\d-\d\d-\d{6}/g, 'DATE').replace(/revoked-\d\d-\d\d-\d\d/g, 'revoked-DMY').replace(/[0-9a-f]{40}/g, 'SHA1');
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      const st = fs.lstatSync(path.join(abs, e.name));
      if (st.isDirectory()) {
        dirs.push(`D ${mask(r)}`);
        walk(path.join(abs, e.name), r);
      } else byIno.set(st.ino, [...(byIno.get(st.ino) ?? []), mask(r)]);
    }
  };
  for (const top of ['files', 'devices', 'shared', '.burrow/trash']) walk(path.join(root, top), top);
  const files = [...byIno.values()].map((paths) => `F ${paths.sort().join(' = ')}`);
  return [...dirs, ...files].sort();
}

function journalOf(root: string, id: string): Array<{ state: string; plan: string }> {
  const db = new Database(path.join(root, '.burrow/burrow.db'), { readonly: true });
  try {
    return db.prepare('SELECT j.state, p.plan FROM journal j JOIN journal_plans p ON p.journal_id = j.id WHERE j.request_id = ?').all(id) as Array<{ state: string; plan: string }>;
  } finally {
    db.close();
  }
}

async function limited<T>(jobs: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

describe('kill -9 at every step of every action', () => {
  it.skipIf(!fs.existsSync(path.join(path.dirname(BURROW_BIN), '../dist/server/src/requests/processor.js')))('builds exist', () => {});

  for (const [n, sc] of SCENARIOS.entries()) {
    it(`${sc.action} #${n}: finishes exactly once after a crash at any step`, async () => {
      const id = `crash-test-${n}-${sc.action}`;
      // The reference: the same request on an identical root, without a crash.
      const probe = await prepareRoot(sc);
      const ref = await runInProcess(probe.root, bodyOf(sc.cli(probe.setupResults), id));
      expect(ref.state, ref.reason).toBe(sc.settled ?? 'done');
      const steps = (JSON.parse(journalOf(probe.root, id)[0]!.plan) as { steps: unknown[] }).steps.length;
      expect(steps).toBeGreaterThan(0);
      const want = snapshot(probe.root);

      const points = Array.from({ length: steps + 2 }, (_, k) => k);
      const results = await limited(
        points.map((k) => async () => {
          const r = await prepareRoot(sc);
          const args = [...sc.cli(r.setupResults), '--id', id];
          const crashed = await runCli(r.root, args, { BURROW_FAULT_AFTER_STEP: String(k), BURROW_FAULT_ACTION: sc.action });
          const again = await runInProcess(r.root, bodyOf(sc.cli(r.setupResults), id));
          return { k, crashed, again, snap: snapshot(r.root), journal: journalOf(r.root, id) };
        }),
        4,
      );
      for (const r of results) {
        expect(r.crashed.signal, `step ${r.k}: the fault hook should have killed the process`).toBe('SIGKILL');
        expect(r.again.state, `step ${r.k}: ${r.again.reason}`).toBe(sc.settled ?? 'done');
        expect(r.journal.map((j) => j.state), `step ${r.k}: one journal entry, done`).toEqual(['done']);
        expect(r.snap, `step ${r.k}: the root after recovery`).toEqual(want);
      }
    });
  }
});
