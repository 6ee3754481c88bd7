import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { addDevice } from '../../devices/add-device.js';
import { joinQr, joinStringFor, QR_MAX_COLUMNS } from '../../nas-sync/join.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';
import { makeWebJoinLink, revokeWeb, terminalQr } from '../../devices/web-link.js';
import { BurrowError } from '../../errors.js';

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
    .option('--web', 'a browser device (a phone with nothing installed): print a one-time join link and its QR code instead of an agent join string; for a device that exists, a new link')
    .option('--url <https-origin>', 'with --web: the HTTPS address the phone reaches the NAS at (default: http.publicUrl)')
    .action(
      action(async (name: string, opts: { root?: string; quota?: number; json?: boolean; web?: boolean; url?: string }) => {
        const r = openRoot(rootFrom(opts));
        try {
          if (opts.web) {
            if (!r.store.devices.get(name)) addDevice(r, name, opts.quota ?? null);
            const link = await makeWebJoinLink(r, name, opts.url);
            const qr = !opts.json && process.stdout.isTTY ? await terminalQr(link.url) : '';
            report(opts.json, link, () =>
              [
                `Open this link on ${name} (once; it expires ${new Date(link.expiresAt).toISOString().slice(0, 16).replace('T', ' ')} UTC):`,
                link.url,
                qr,
                link.trusted
                  ? 'The phone then keeps its catalogue and the files it gets in its browser; add it to the home screen to use it offline.'
                  : `WARNING: ${link.origin} is not an address a phone's browser trusts (self-signed or plain HTTP), so the web app cannot install or work offline there. Set http.publicUrl to your reverse proxy's or VPN's HTTPS name (README, "Add your phone or laptop"), or pass --url.`,
                `Sign it out later with: burrow device revoke-web ${name}`,
              ].join('\n'),
            );
            return;
          }
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
  withRoot(device.command('revoke-web <name>').description("sign out every browser of this device (web app) and void its unused join links"))
    .option('--json', 'print one JSON document')
    .action(
      action((name: string, opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          if (!r.store.devices.get(name)) throw new BurrowError('UNKNOWN_DEVICE', `There is no device called ${JSON.stringify(name)}.`, 'burrow device list shows them.');
          const revoked = revokeWeb(r, name);
          report(opts.json, { device: name, revoked }, () =>
            revoked ? `${name}: ${revoked} browser credential(s) and join link(s) revoked; the web app there stops acting at its next contact.` : `${name} had no browser signed in and no unused join link.`,
          );
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
              reported: d.reported_at === null ? null : { limitBytes: d.reported_limit_bytes, freeBytes: d.reported_free_bytes, usedBytes: d.reported_used_bytes, capacityBytes: d.reported_capacity_bytes, at: d.reported_at },
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
