import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, waitFor } from '../agent/harness.js';
import { smallDisk } from '../helpers/small-disk.js';

// Soak finding 14 (seed 505, 2026-12-03): the NAS exited by itself on a full disk ("code: 'ENOSPC',
// syscall: 'write'"): the JSON log's destination emitted 'error' with nobody listening.
const { dir: disk, mounted, cleanup } = smallDisk('burrow-finding-log-full-', 1);
afterAll(cleanup);

describe.skipIf(!mounted)('the NAS log on a full disk', () => {
  it('does not end the process; the lines are written once there is room', async () => {
    const logFile = path.join(disk, 'logs', 'burrow.log');
    const ballast = path.join(disk, 'ballast');
    const script = `
      import { createLogger } from ${JSON.stringify(path.join(REPO, 'dist', 'server', 'src', 'log.js'))};
      import fs from 'node:fs';
      import { fillToLastByte } from ${JSON.stringify(path.join(REPO, 'dist', 'test', 'helpers', 'small-disk.js'))};
      const log = createLogger('info', { file: ${JSON.stringify(logFile)} });
      log.info('before');
      await new Promise((r) => setTimeout(r, 300));
      fillToLastByte(${JSON.stringify(ballast)});
      for (let i = 0; i < 2000; i++) log.info({ i }, 'while the disk is full');
      await new Promise((r) => setTimeout(r, 1000));
      fs.rmSync(${JSON.stringify(ballast)});
      log.info('after');
      await new Promise((r) => setTimeout(r, 1000));
      process.stdout.write('still running\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, out).toBe(0);
    expect(out).toContain('still running');
    expect(out).toMatch(/cannot write the log/);
    await waitFor('the lines written after the disk had room', () => fs.readFileSync(logFile, 'utf8').includes('"msg":"after"'), 5000);
    expect(fs.readFileSync(logFile, 'utf8')).toContain('"i":1999');
  }, 30_000);
});
