import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BURROW_BIN, burrow } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { joinQr } from '../../server/src/nas-sync/join.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const visible = (line: string) => [...line.replace(/\x1b\[[0-9;]*m/g, '')].length; // eslint-disable-line no-control-regex
const isQrLine = (line: string) => /[▀▄█]/.test(line);

/** Run the CLI on a pseudo-terminal (util-linux `script`), as a person sees it: the QR code is drawn only there. */
function onTerminal(args: string[]): string {
  const cmd = [process.execPath, BURROW_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, BURROW_LOG_LEVEL: 'warn', COLUMNS: '80' }, timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.replace(/\r/g, '');
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('the device join QR code', () => {
  it.skipIf(!hasScript)('fits an 80-column terminal for a real join string (device add and device join)', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const root = path.join(t.dir, 'nas');
    expect(burrow(['init', '--root', root]).status).toBe(0);
    // A typical home NAS's addresses (its LAN address and a public name), not this machine's:
    // other tests' network namespaces (the soak's veth pairs) added addresses to the join string
    // and made it too long for a QR code here (ci20, 2026-12-03).
    const cfgFile = path.join(root, '.burrow', 'config.yaml');
    const cfg = fs.readFileSync(cfgFile, 'utf8');
    fs.writeFileSync(cfgFile, cfg.replace(/^( {2}publicAddresses:) \[\]$/m, '$1 ["192.168.178.20:7421", "nas.example.net:7421"]'));
    expect(fs.readFileSync(cfgFile, 'utf8')).toContain('nas.example.net:7421');
    for (const args of [['device', 'add', 'grandmas-laptop'], ['device', 'join', 'grandmas-laptop']]) {
      const out = onTerminal([...args, '--root', root]);
      const qr = out.split('\n').filter(isQrLine);
      expect(qr.length, out).toBeGreaterThan(20); // it is drawn
      expect(Math.max(...qr.map(visible)), out).toBeLessThanOrEqual(80);
    }
  });

  it('draws none rather than one too wide to scan', async () => {
    expect(await joinQr('burrow1:' + 'x'.repeat(900))).toBe('');
    expect((await joinQr('burrow1:short')).length).toBeGreaterThan(0);
  });
});
