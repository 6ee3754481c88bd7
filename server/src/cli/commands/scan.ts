import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { scanRoot } from '../../index/scanner.js';
import { hashPending } from '../../index/hasher.js';
import { action, progressBar, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';

const MIB = 1024 * 1024;

export function register(program: Command): void {
  withRoot(program.command('scan').description('index the whole root once (and hash contents with --hash), then exit'))
    .option('--hash', 'also hash every file whose hash is missing or stale')
    .option('--json', 'print one JSON summary')
    .action(
      action(async (opts: { root?: string; hash?: boolean; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const bar = progressBar(!opts.json, 'scan |{bar}| {files} files  {rate} files/s  {mb} MiB');
          bar.start(1, { files: 0, rate: 0, mb: 0 });
          const scan = scanRoot(r.store, r.layout, {
            onProgress: (s) => bar.update(0, { files: s.files, rate: Math.round(s.files / (s.elapsedMs / 1000 || 1)), mb: Math.round(s.bytes / MIB) }),
          });
          bar.update(1, { files: scan.files, rate: Math.round(scan.files / (scan.elapsedMs / 1000 || 1)), mb: Math.round(scan.bytes / MIB) });
          bar.stop();
          let hash = null;
          if (opts.hash) {
            const todo = r.store.contents.progress();
            const hb = progressBar(!opts.json, 'hash |{bar}| {percentage}%  {value}/{total} MiB  {rate} MiB/s  ETA {eta_formatted}');
            hb.start(Math.max(1, Math.round((todo.bytes - todo.hashedBytes) / MIB)), { rate: 0 });
            hash = await hashPending(r.store, r.layout.files, {
              workers: r.config.index.hashWorkers,
              queue: r.config.index.hashQueue,
              onProgress: (p) => hb.update(Math.round(p.bytes / MIB), { rate: Math.round(p.bytes / MIB / (p.elapsedMs / 1000 || 1)) }),
            });
            hb.stop();
          }
          report(opts.json, { scan, hash }, () => {
            const lines = [
              `scanned ${scan.files} files in ${scan.dirs} folders (${formatBytes(scan.bytes)}) in ${(scan.elapsedMs / 1000).toFixed(2)} s`,
              `  ${scan.added} new, ${scan.changed} changed, ${scan.removed} gone, ${scan.errors} unreadable`,
            ];
            if (hash) lines.push(`hashed ${hash.files} files (${formatBytes(hash.bytes)}) in ${(hash.elapsedMs / 1000).toFixed(2)} s, ${hash.failed} failed`);
            return lines.join('\n');
          });
        } finally {
          r.close();
        }
      }),
    );
}
