import type { Command } from 'commander';
import { action, rootFrom, withRoot } from '../common.js';
import { runRequest } from '../../requests/run-local.js';
import { requestBody, printResult } from './request.js';
import { validateDeviceName } from '../../devices/device-name.js';
import { BurrowError } from '../../errors.js';

/**
 * `burrow device remove <name> --yes`: the remove-device action (actions/remove-device.ts),
 * through the running NAS when there is one. Joins the `device` group like `device set`.
 */
export function register(program: Command): void {
  const group = program.commands.find((c) => c.name() === 'device');
  const cmd = group ? group.command('remove <name>') : program.command('device-remove <name>');
  withRoot(cmd.description('remove a device: its links go, the store keeps every file; what only it held goes to the trash'))
    .option('--yes', 'really remove it (required)')
    .option('--json', 'print one JSON document')
    .action(
      action(async (nameInput: string, opts: { root?: string; yes?: boolean; json?: boolean }) => {
        const name = validateDeviceName(nameInput);
        if (!opts.yes) throw new BurrowError('NEEDS_CONFIRMATION', `Removing ${name} stops syncing with it and removes its links (the store keeps every file).`, `Run it again with --yes: burrow device remove ${name} --yes`);
        const body = requestBody('remove-device', '', { yes: true });
        body.args = { device: name };
        printResult(await runRequest(rootFrom(opts), body), opts.json);
      }),
    );
}
