import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { availabilitySummary, AVAILABILITY_KEEP_DAYS } from '../../services/availability.js';
import { validateDeviceName } from '../../devices/device-name.js';
import { errors } from '../../errors.js';
import { action, report, rootFrom, withRoot } from '../common.js';

const hours = (ms: number): string => `${(ms / 3_600_000).toFixed(1)} h`;
const when = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC');

export function register(program: Command): void {
  withRoot(program.command('availability').description('when each device was reachable (sync link up or agent report), from the running NAS\'s log'))
    .option('--device <name>', 'only this device')
    .option('--days <n>', `how many days back (at most ${AVAILABILITY_KEEP_DAYS})`, (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || n > AVAILABILITY_KEEP_DAYS) throw new Error(`--days needs a number of days from 1 to ${AVAILABILITY_KEEP_DAYS}, got "${v}"`);
      return n;
    })
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; device?: string; days?: number; json?: boolean }) => {
        const r = openRoot(rootFrom(opts), { readonly: true });
        try {
          const device = opts.device === undefined ? undefined : validateDeviceName(opts.device);
          if (device !== undefined && !r.store.devices.get(device)) throw errors.unknownDevice(device);
          const list = availabilitySummary(r.store, { ...(device !== undefined ? { device } : {}), days: opts.days ?? 7 });
          report(opts.json, { days: opts.days ?? 7, devices: list }, () =>
            list.length === 0
              ? 'no devices yet: burrow device add <name>'
              : list
                  .map((d) => `${d.device}: reachable ${(d.fraction * 100).toFixed(1)}% of the last ${opts.days ?? 7} day(s) (${hours(d.reachableMs)} in ${d.spans.length} stretch(es)); last seen ${when(d.lastSeen)}`)
                  .join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
