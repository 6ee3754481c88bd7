import type { Command } from 'commander';
import { initRoot } from '../../root/open-root.js';
import { readAdminPasswordHash, setAdminPassword } from '../../root/admin-password.js';
import { readNewPassword } from '../prompt.js';
import { action, report, rootFrom, withRoot } from '../common.js';

export function register(program: Command): void {
  withRoot(program.command('init').description('create a NAS root: files/, catalogue/, devices/, shared/, .burrow/ (config, database, keys, API token); asks for an admin password on a terminal'))
    .option('--json', 'print one JSON document')
    .action(
      action(async (opts: { root?: string; json?: boolean }) => {
        const l = initRoot(rootFrom(opts));
        let password = readAdminPasswordHash(l) !== undefined;
        if (!password && process.stdin.isTTY && !opts.json) {
          const pw = await readNewPassword('Admin password for the web UI (Enter to set it later)');
          if (pw !== '') {
            await setAdminPassword(l, pw);
            password = true;
          }
        }
        const later = `no admin password yet: set one with "burrow password --root ${l.root}" (reads it from standard input when that is not a terminal)`;
        report(opts.json, { root: l.root, config: l.config, db: l.db, apiToken: l.apiToken, adminPassword: password }, () =>
          [`Burrow root ready at ${l.root}`, `  config:    ${l.config}`, `  API token: ${l.apiToken} (for the CLI and scripts: Authorization: Bearer <token>)`, password ? '  web login: admin password set' : `  web login: ${later}`, `  next:      put files in ${l.files} and run "burrow start --root ${l.root}"`].join('\n'),
        );
      }),
    );
}
