import type { Command } from 'commander';
import { startNas } from '../../nas.js';
import { readAdminPasswordHash } from '../../root/admin-password.js';
import { logFileOf } from '../../log.js';
import { action, installStopSignals, rootFrom, withRoot } from '../common.js';

export function register(program: Command): void {
  withRoot(program.command('start').description('run the NAS in the foreground: index, watch, publish, process requests, sync, jobs, HTTP'))
    .option('--port <port>', 'HTTP port (overrides the config)', (v) => Number(v))
    .option('--host <host>', 'HTTP address (overrides the config)')
    .option('--verbose', 'also write the JSON log to stderr (it always goes to <root>/.burrow/logs/burrow.log)')
    .action(
      action(async (opts: { root?: string; port?: number; host?: string; verbose?: boolean }) => {
        const signals = installStopSignals();
        const nas = await startNas(rootFrom(opts), { port: opts.port, host: opts.host, verbose: opts.verbose });
        process.stdout.write(
          `Burrow NAS running on ${nas.ctx.layout.root}\n  admin UI and API: ${nas.url}/\n  catalogue:        ${nas.url}/catalogue/catalogue.html  (file: ${nas.ctx.layout.catalogue}/catalogue.html)\n  log:              ${logFileOf(nas.ctx.layout.logs)}${opts.verbose ? ' (and stderr)' : ''}\n  stop with Ctrl-C\n` +
            (nas.fingerprint ? `  TLS certificate SHA-256 fingerprint: ${nas.fingerprint}\n` : '') +
            (readAdminPasswordHash(nas.ctx.layout) ? '' : `  web login: no admin password yet; set one with "burrow password --root ${nas.ctx.layout.root}"\n`),
        );
        const sig = await signals.stopped;
        nas.ctx.log.info({ sig }, 'stopping');
        await nas.stop();
        signals.dispose();
      }),
    );
}
