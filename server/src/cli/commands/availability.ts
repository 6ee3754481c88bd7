import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { availabilitySummary, memberAvailabilitySummary, AVAILABILITY_KEEP_DAYS } from '../../services/availability.js';
import { validateDeviceName } from '../../devices/device-name.js';
import { BurrowError, errors } from '../../errors.js';
import { action, report, rootFrom, withRoot } from '../common.js';

const hours = (ms: number): string => `${(ms / 3_600_000).toFixed(1)} h`;
const when = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC');

export function register(program: Command): void {
  withRoot(program.command('availability').description("when each device, and each other NAS of the group, was reachable (from the running NAS's log)"))
    .option('--device <name>', 'only this device')
    .option('--member <id-or-name>', 'only this other NAS of the group (burrow nas list names them)')
    .option('--days <n>', `how many days back (at most ${AVAILABILITY_KEEP_DAYS})`, (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || n > AVAILABILITY_KEEP_DAYS) throw new Error(`--days needs a number of days from 1 to ${AVAILABILITY_KEEP_DAYS}, got "${v}"`);
      return n;
    })
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; device?: string; member?: string; days?: number; json?: boolean }) => {
        const r = openRoot(rootFrom(opts), { readonly: true });
        try {
          const days = opts.days ?? 7;
          const device = opts.device === undefined ? undefined : validateDeviceName(opts.device);
          if (device !== undefined && !r.store.devices.get(device)) throw errors.unknownDevice(device);
          // Naming one kind alone leaves the other kind out.
          const devices = opts.member !== undefined && device === undefined ? [] : availabilitySummary(r.store, { ...(device !== undefined ? { device } : {}), days });
          const members = device !== undefined && opts.member === undefined ? [] : memberAvailabilitySummary(r.store, { ...(opts.member !== undefined ? { member: opts.member } : {}), days });
          if (opts.member !== undefined && members.length === 0)
            throw new BurrowError('UNKNOWN_MEMBER', `No other NAS of this group is named ${JSON.stringify(opts.member)}.`, 'List the members with "burrow nas list" and give an id or a name from it.');
          report(opts.json, { days, devices, members }, () => {
            const line = (who: string, a: { fraction: number; reachableMs: number; spans: unknown[]; lastSeen: number | null }) =>
              `${who}: reachable ${(a.fraction * 100).toFixed(1)}% of the last ${days} day(s) (${hours(a.reachableMs)} in ${a.spans.length} stretch(es)); last seen ${when(a.lastSeen)}`;
            const lines = [...devices.map((d) => line(d.device, d)), ...members.map((m) => line(`NAS ${m.name} (${m.member}, zone ${m.zone})`, m))];
            return lines.length === 0 ? 'no devices yet: burrow device add <name>' : lines.join('\n');
          });
        } finally {
          r.close();
        }
      }),
    );
}
