import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { publishCatalogue } from '../../catalogue/publish.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';

export function register(program: Command): void {
  withRoot(program.command('publish').description('render the catalogue (catalogue/catalogue.html and its data) from the index once'))
    .option('--json', 'print one JSON summary')
    .action(
      action(async (opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const stats = publishCatalogue({ store: r.store, layout: r.layout, trashDays: r.config.trash.retentionDays, torrents: r.config.torrent.enabled });
          report(opts.json, stats, () =>
            [
              `published ${stats.files} files in ${stats.folders} folders to ${r.layout.catalogue}/catalogue.html in ${(stats.elapsedMs / 1000).toFixed(2)} s`,
              `  ${stats.totalFiles} catalogue files (${formatBytes(stats.totalBytes)}, ${stats.chunks} data shards); rewrote ${stats.writtenFiles} (${formatBytes(stats.writtenBytes)}), removed ${stats.removedFiles}`,
              `  (requests are shown by the running NAS; "burrow start" republishes on every change)`,
            ].join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
