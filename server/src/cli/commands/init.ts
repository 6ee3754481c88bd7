import type { Command } from 'commander';
import { initRoot } from '../../root/open-root.js';
import { action, report, rootFrom, withRoot } from '../common.js';

export function register(program: Command): void {
  withRoot(program.command('init').description('create a NAS root: files/, catalogue/, devices/, shared/, .burrow/ (config, database, keys)'))
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; json?: boolean }) => {
        const l = initRoot(rootFrom(opts));
        report(opts.json, { root: l.root, config: l.config, db: l.db }, () => `Burrow root ready at ${l.root}\n  config: ${l.config}\n  next:   put files in ${l.files} and run "burrow start --root ${l.root}"`);
      }),
    );
}
