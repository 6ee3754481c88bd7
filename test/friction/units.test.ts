import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { burrow } from '../helpers/cli.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { formatBytes } from '../../server/src/util/format-bytes.js';
import { freePorts } from './fixture.js';
import { ownerFetch } from '../helpers/nas-auth.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Sizes as Burrow printed them before one formatter: decimal units, or a raw byte count. */
const OLD_FORMS = /\b\d+(\.\d+)? ?(kB|KB|MB|GB|TB)\b|\b\d+ bytes\b/;
const SIZE = 3_486_810; // the "freed 3486810 bytes" of the issue
const SAMPLES = [0, 999, 1024, SIZE, 52_428_800, 5 * 1024 ** 3];

function ok(args: string[]): string {
  const r = burrow(args);
  expect(r.status, `burrow ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout, `burrow ${args.join(' ')}`).not.toMatch(OLD_FORMS);
  return r.stdout;
}

describe('one unit style (IEC: KiB, MiB, GiB) everywhere', () => {
  it('formatBytes', () => {
    expect([0, 1023, 1024, 1536, SIZE, 50 * 1024 * 1024, 1024 ** 3 - 1, 3 * 1024 ** 4].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '3.3 MiB', '50.0 MiB', '1.0 GiB', '3.0 TiB']);
  });

  it('device list, status, dedupe, device set, balance, the jobs API, the admin UI and the catalogue agree', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const root = path.join(t.dir, 'nas');
    ok(['init', '--root', root]);
    const blob = Buffer.alloc(SIZE, 7);
    writeFiles(path.join(root, 'files'), { 'a/x.bin': blob, 'b/x.bin': blob });
    const old = new Date('2020-01-01T00:00:00Z'); // dedupe leaves files changed moments ago alone
    for (const f of ['a/x.bin', 'b/x.bin']) fs.utimesSync(path.join(root, 'files', f), old, old);
    ok(['device', 'add', 'laptop', '--quota', '50', '--root', root, '--json']);
    fs.mkdirSync(path.join(root, 'devices/laptop/a'), { recursive: true });
    fs.linkSync(path.join(root, 'files/a/x.bin'), path.join(root, 'devices/laptop/a/x.bin'));
    ok(['scan', '--hash', '--root', root]);

    expect(ok(['device', 'list', '--root', root])).toContain('laptop  quota 50.0 MiB');
    expect(ok(['status', '--root', root])).toContain('device laptop: 1 files, 3.3 MiB of 50.0 MiB');
    expect(ok(['dedupe', '--root', root])).toContain('saved 3.3 MiB');
    expect(ok(['device', 'set', 'laptop', '--quota', '3', '--root', root])).toContain('storage limit 3.0 MiB');
    const balance = ok(['balance', '--device', 'laptop', '--root', root]);
    expect(balance).toContain('laptop: 3.3 MiB used, limit 3.0 MiB: removed 1 links, 3.3 MiB');
    ok(['publish', '--root', root]);

    // The catalogue page carries the same function, inlined (it must work from file://).
    const html = fs.readFileSync(path.join(root, 'catalogue/catalogue.html'), 'utf8');
    const at = html.indexOf('function formatBytes(');
    expect(at).toBeGreaterThan(0);
    const pageFormat = new Function(`${html.slice(at, html.indexOf('\n}\n', at) + 2)}; return formatBytes;`)() as (n: number) => string;
    for (const n of SAMPLES) expect(pageFormat(n)).toBe(formatBytes(n));
    expect(html).not.toMatch(/\['B', 'KB', 'MB'/);

    freePorts(root);
    const nas: RunningNas = await startNas(root, { port: 0, host: '127.0.0.1' });
    cleanups.push(() => nas.stop());
    const jobs = (await (await ownerFetch(root, `${nas.url}/api/jobs`)).json()) as Array<{ job: string; summary: string }>;
    const summaries = jobs.map((j) => `${j.job}: ${j.summary}`).join('\n');
    expect(summaries).toContain('dedupe: 1 groups, 1 files linked, 3.3 MiB saved');
    expect(summaries).toContain('balance laptop: freed 3.3 MiB (1 files)');
    expect(summaries).not.toMatch(OLD_FORMS);
    // The admin page loads the same function and gives the same answers.
    const page = await (await ownerFetch(root, `${nas.url}/`)).text();
    expect(page).toContain('<script src="/admin/format-bytes.js" defer></script>');
    const res = await ownerFetch(root, `${nas.url}/admin/format-bytes.js`);
    expect(res.status).toBe(200);
    const adminFormat = new Function(`${await res.text()}; return formatBytes;`)() as (n: number) => string;
    for (const n of SAMPLES) expect(adminFormat(n)).toBe(formatBytes(n));
  });
});
