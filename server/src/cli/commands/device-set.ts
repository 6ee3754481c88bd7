import { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { validateDeviceName } from '../../devices/device-name.js';
import { errors } from '../../errors.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';

/**
 * `burrow device set <name> --quota <MB|none>`: change a device's storage limit. It joins the
 * `device` command group when it exists (registered before this module), else stands alone as
 * `burrow device-set`.
 */
export function register(program: Command): void {
  const group = program.commands.find((c) => c.name() === 'device');
  const cmd = group ? group.command('set <name>') : program.command('device-set <name>');
  withRoot(cmd.description("change a device's settings (its storage limit)"))
    .requiredOption('--quota <MB>', 'storage limit on the device in MB, or "none" for no limit', (v) => {
      if (v === 'none') return null;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--quota needs a number of MB or "none", got "${v}"`);
      return n;
    })
    .option('--json', 'print one JSON document')
    .action(
      action((nameInput: string, opts: { root?: string; quota: number | null; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const name = validateDeviceName(nameInput);
          if (!r.store.devices.get(name)) throw errors.unknownDevice(name);
          const bytes = opts.quota === null ? null : Math.round(opts.quota * 1024 * 1024);
          r.store.devices.setQuota(name, bytes);
          report(opts.json, { name, quotaBytes: bytes }, () => `device ${name}: ${bytes === null ? 'no storage limit' : `storage limit ${formatBytes(bytes)}`} (run "burrow balance --device ${name}" to apply it now)`);
        } finally {
          r.close();
        }
      }),
    );
}
