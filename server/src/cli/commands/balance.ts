import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { scanArea } from '../../index/scanner.js';
import { FILES_AREA, deviceArea } from '../../store/entries-repo.js';
import { validateDeviceName } from '../../devices/device-name.js';
import { balanceJob, cliRefresher } from '../../jobs/run-jobs.js';
import type { BalanceReport } from '../../jobs/balance.js';
import { formatBytes } from '../../util/format-bytes.js';
import { BurrowError } from '../../errors.js';
import { action, report, rootFrom, withRoot } from '../common.js';

export function register(program: Command): void {
  withRoot(program.command('balance').description("bring devices back under their storage limits by removing their least recently used links (never files/)"))
    .option('--device <name>', 'only this device')
    .option('--dry-run', 'print what would be removed, change nothing')
    .option('--json', 'print one JSON report')
    .action(
      action((opts: { root?: string; device?: string; dryRun?: boolean; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const device = opts.device === undefined ? undefined : validateDeviceName(opts.device);
          const names = device !== undefined ? [device] : r.store.devices.list().map((d) => d.name);
          // The running NAS keeps the index current; a shell run makes sure of it first.
          scanArea(r.store, FILES_AREA, r.layout.files);
          for (const d of names) scanArea(r.store, deviceArea(d), r.layout.device(d));
          const result = balanceJob(r.store, r.layout, { dryRun: opts.dryRun ?? false, refresh: cliRefresher(r.store, r.layout), ...(device !== undefined ? { device } : {}) });
          report(opts.json, result, () => describe(result));
          if (!result.ok) {
            const failed = result.devices.filter((d) => !d.ok);
            throw new BurrowError(
              'NO_ROOM',
              failed.map((d) => `Device ${d.device} cannot get under its limit: ${d.reason}.`).join(' '),
              'Unpin folders on that device (burrow pin --help), or raise its limit: burrow device set <name> --quota <MB>.',
            );
          }
        } finally {
          r.close();
        }
      }),
    );
}

function describe(r: BalanceReport): string {
  if (r.devices.length === 0) return 'no devices';
  const lines: string[] = [];
  for (const d of r.devices) {
    const limit = d.quotaBytes === null ? 'no limit' : `limit ${formatBytes(d.quotaBytes)}`;
    if (!d.ok) {
      lines.push(`${d.device}: ${formatBytes(d.usedBytes)} used, ${limit}: ${d.reason}`);
      continue;
    }
    if (d.evicted.length === 0) {
      lines.push(`${d.device}: ${formatBytes(d.usedBytes)} used, ${limit}: nothing to do`);
      continue;
    }
    lines.push(`${d.device}: ${formatBytes(d.usedBytes)} used, ${limit}: ${r.dryRun ? 'would remove' : 'removed'} ${d.evicted.length} links, ${formatBytes(d.freedBytes)}`);
    for (const e of d.evicted) lines.push(`  ${e.path}  ${formatBytes(e.size)}  last used ${e.lastUsed ? new Date(e.lastUsed).toISOString() : 'never'}`);
  }
  return lines.join('\n');
}
