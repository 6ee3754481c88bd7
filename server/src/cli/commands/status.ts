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
          const s = computeStatus(r.store, r.config);
          report(opts.json, s, () =>
            [
              `${s.files} files in ${s.folders} folders, ${humanBytes(s.bytes)}` + (s.errors ? `, ${s.errors} unreadable` : ''),
              `hashed ${s.hash.hashedFiles}/${s.hash.totalFiles} files (${s.hash.percent}% of bytes)`,
              ...s.devices.map((d) => `device ${d.name}: ${d.files} files, ${humanBytes(d.bytes)}` + (d.quotaBytes ? ` of ${humanBytes(d.quotaBytes)}` : '')),
              s.torrents && s.torrents.active > 0
                ? `torrents: ${s.torrents.active} active of ${s.torrents.total}; listener on ${s.torrents.host}:${s.torrents.port} while the NAS runs`
                : `torrents: none active; listener (${s.torrents?.host}:${s.torrents?.port}) off until the first torrent`,
            ].join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
