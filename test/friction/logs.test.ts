import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { burrow, REPO } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { CLI, freePorts, jsonLines, run, stop, type Running } from './fixture.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DEMO = path.join(REPO, 'dist/scripts/demo-nas.js');

/** A root whose NAS takes free ports (the demo's own default is 7420/7421). */
function root(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const r = path.join(t.dir, 'nas');
  expect(burrow(['init', '--root', r]).status).toBe(0);
  freePorts(r);
  return r;
}

const logFile = (r: string) => path.join(r, '.burrow/logs/burrow.log');
const started = (r: string) => () => fs.existsSync(logFile(r)) && jsonLines(fs.readFileSync(logFile(r), 'utf8')).some((l) => (JSON.parse(l) as { msg?: string }).msg === 'Burrow NAS running');

async function running(p: Promise<Running>): Promise<Running> {
  const proc = await p;
  cleanups.push(() => stop(proc));
  return proc;
}

describe('human lines on the terminal, the JSON log in <root>/.burrow/logs/burrow.log', () => {
  it('npm run demo: no JSON on stdout or stderr; the log file has it; --verbose copies it to stderr', async () => {
    const r = root();
    const env = { BURROW_ROOT: r, BURROW_LOG_LEVEL: 'info' };
    const demo = await running(run(DEMO, [], 'stop with Ctrl-C', env));
    await waitFor(started(r), 15_000);
    await stop(demo);
    expect(jsonLines(demo.out())).toEqual([]);
    expect(jsonLines(demo.err())).toEqual([]);
    expect(demo.out()).toContain(`log:              ${logFile(r)}`);
    const before = jsonLines(fs.readFileSync(logFile(r), 'utf8')).length;
    expect(before).toBeGreaterThan(1);

    const verbose = await running(run(DEMO, ['--verbose'], 'stop with Ctrl-C', env));
    await waitFor(() => jsonLines(verbose.err()).some((l) => (JSON.parse(l) as { msg?: string }).msg === 'Burrow NAS running'), 15_000);
    await stop(verbose);
    expect(jsonLines(verbose.out())).toEqual([]);
    expect(jsonLines(fs.readFileSync(logFile(r), 'utf8')).length).toBeGreaterThan(before); // appended, not replaced
  });

  it('burrow start: the same', async () => {
    const r = root();
    const nas = await running(run(CLI, ['start', '--root', r, '--port', '0'], 'stop with Ctrl-C', { BURROW_LOG_LEVEL: 'info' }));
    await waitFor(started(r), 15_000);
    await stop(nas);
    expect(jsonLines(nas.out())).toEqual([]);
    expect(jsonLines(nas.err())).toEqual([]);
    const verbose = await running(run(CLI, ['start', '--root', r, '--port', '0', '--verbose'], 'stop with Ctrl-C', { BURROW_LOG_LEVEL: 'info' }));
    await waitFor(() => jsonLines(verbose.err()).length > 0, 15_000);
    await stop(verbose);
    expect(jsonLines(verbose.out())).toEqual([]);
  });
});
