import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { computeStatus } from '../../services/status.js';
import { action, humanBytes, report, rootFrom, withRoot } from '../common.js';

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
              `${s.files} files in ${s.folders} folders, ${humanBytes(s.bytes)}` + (s.errors ? `, ${s.errors} unreadable` : ''),
              `hashed ${s.hash.hashedFiles}/${s.hash.totalFiles} files (${s.hash.percent}% of bytes)`,
              ...s.devices.map((d) => `device ${d.name}: ${d.files} files, ${humanBytes(d.bytes)}` + (d.quotaBytes ? ` of ${humanBytes(d.quotaBytes)}` : '')),
              ...s.sharedFolders.map(
                (f) => `shared folder ${f.id} (files/${f.path}): friends added ${humanBytes(f.usedBytes)} of ${f.limitBytes === null ? 'no limit' : humanBytes(f.limitBytes)}` + (f.refusedFiles ? `, ${f.refusedFiles} file(s) refused` : ''),
              ),
            ].join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
