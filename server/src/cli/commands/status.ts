import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { computeStatus } from '../../services/status.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';

export function register(program: Command): void {
  withRoot(program.command('status').description('what the index holds: files, bytes, hash progress, devices'))
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts), { readonly: true });
        try {
          const s = computeStatus(r.store);
          report(opts.json, s, () =>
            [
              `${s.files} files in ${s.folders} folders, ${formatBytes(s.bytes)}` + (s.errors ? `, ${s.errors} unreadable` : ''),
              `hashed ${s.hash.hashedFiles}/${s.hash.totalFiles} files (${s.hash.percent}% of bytes)`,
              ...s.devices.map((d) => `device ${d.name}: ${d.files} files, ${formatBytes(d.bytes)}` + (d.quotaBytes ? ` of ${formatBytes(d.quotaBytes)}` : '')),
            ].join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
