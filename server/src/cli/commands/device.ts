import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { addDevice } from '../../devices/add-device.js';
import { joinQr, joinStringFor, QR_MAX_COLUMNS } from '../../nas-sync/join.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';

/** The join QR code for a terminal, or a line saying why there is none (the string is printed anyway). */
async function qrOrNote(join: string): Promise<string> {
  return (await joinQr(join)) || `(no QR code: this join string would need one wider than ${QR_MAX_COLUMNS} columns; copy the line above)\n`;
}

export function register(program: Command): void {
  const device = program.command('device').description('register and list devices');
  withRoot(device.command('add <name>').description('register a device and create devices/<name>/'))
    .option('--quota <MB>', 'storage limit on the device, in MB', (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--quota needs a number of MB, got "${v}"`);
      return n;
    })
    .option('--json', 'print one JSON document')
    .action(
      action(async (name: string, opts: { root?: string; quota?: number; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const d = addDevice(r, name, opts.quota ?? null);
          const join = joinStringFor(r, d.name);
          const qr = !opts.json && process.stdout.isTTY ? await qrOrNote(join) : '';
          report(opts.json, { name: d.name, quotaBytes: d.quota_bytes, folder: r.layout.device(d.name), join }, () =>
            `device ${d.name} added; its folder is ${r.layout.device(d.name)}\n\njoin string (keep it private: it carries the device's secrets):\n${join}\n${qr}\non the device: burrow agent --root <dir> --join '${join}'`,
          );
        } finally {
          r.close();
        }
      }),
    );
  withRoot(device.command('join <name>').description("print a registered device's join string again"))
    .option('--json', 'print one JSON document')
    .action(
      action(async (name: string, opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const join = joinStringFor(r, name);
          const qr = !opts.json && process.stdout.isTTY ? await qrOrNote(join) : '';
          report(opts.json, { name, join }, () => `${join}\n${qr}`);
        } finally {
          r.close();
        }
      }),
    );
  withRoot(device.command('list').description('list registered devices'))
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts), { readonly: true });
        try {
          const list = r.store.devices.list();
          const limit = (n: number | null) => (n === null ? 'none' : formatBytes(n));
          report(
            opts.json,
            list.map((d) => ({
              name: d.name,
              quotaBytes: d.quota_bytes,
              reported: d.reported_at === null ? null : { limitBytes: d.reported_limit_bytes, freeBytes: d.reported_free_bytes, usedBytes: d.reported_used_bytes, at: d.reported_at },
              effectiveQuotaBytes: d.effective_quota_bytes,
              createdAt: d.created_at,
            })),
            () =>
              list.length === 0
                ? 'no devices yet: burrow device add <name>'
                : table([
                    ['device', 'admin limit', 'reported limit', 'reported free', 'effective limit'],
                    ...list.map((d) => [d.name, limit(d.quota_bytes), d.reported_at === null ? 'no report yet' : limit(d.reported_limit_bytes), d.reported_free_bytes === null ? '-' : formatBytes(d.reported_free_bytes), limit(d.effective_quota_bytes)]),
                  ]),
          );
        } finally {
          r.close();
        }
      }),
    );
}

/** Columns padded to their widest cell. */
function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]! + 2))).join('')).join('\n');
}
