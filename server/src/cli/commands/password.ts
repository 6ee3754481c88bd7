import type { Command } from 'commander';
import { layoutOf } from '../../root/layout.js';
import { errors } from '../../errors.js';
import fs from 'node:fs';
import { setAdminPassword, MIN_PASSWORD_LENGTH } from '../../root/admin-password.js';
import { secureStateModes } from '../../root/state-modes.js';
import { readNewPassword } from '../prompt.js';
import { action, report, rootFrom, withRoot } from '../common.js';

export function register(program: Command): void {
  withRoot(
    program
      .command('password')
      .description(`set or change the admin password of the web UI (at least ${MIN_PASSWORD_LENGTH} characters): typed without echo on a terminal, else read from the first line of standard input`),
  )
    .option('--json', 'print one JSON document')
    .action(
      action(async (opts: { root?: string; json?: boolean }) => {
        const l = layoutOf(rootFrom(opts));
        if (!fs.existsSync(l.state)) throw errors.rootMissing(l.root);
        const pw = await readNewPassword('New admin password');
        await setAdminPassword(l, pw);
        secureStateModes(l);
        // Logins read the hash from disk each time, so a running NAS takes it at once.
        report(opts.json, { ok: true, file: l.adminPassword }, () => `admin password set (scrypt hash in ${l.adminPassword}); log in at the NAS's /login`);
      }),
    );
}
