import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { scanArea } from '../../index/scanner.js';
import { FILES_AREA } from '../../store/entries-repo.js';
import { dedupeJob, cliRefresher } from '../../jobs/run-jobs.js';
import { SKIP_REASONS, type DedupeReport, type SkipReason } from '../../jobs/dedupe.js';
import { action, progressBar, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';

export function register(program: Command): void {
  withRoot(program.command('dedupe').description('replace duplicate files inside files/ by hard links to one copy (never outside files/)'))
    .option('--dry-run', 'report what would be linked, change nothing')
    .option('--no-scan', 'trust the index as it is (the running NAS keeps it current) instead of re-scanning files/ first')
    .option('--json', 'print one JSON report')
    .action(
      action(async (opts: { root?: string; dryRun?: boolean; scan: boolean; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          // Without the NAS's watcher, the index may be behind the disk: one pass over files/ fixes that.
          const scan = opts.scan ? scanArea(r.store, FILES_AREA, r.layout.files) : null;
          const bar = progressBar(!opts.json, 'dedupe {phase} |{bar}| {value}/{total}');
          let phase = '';
          const result = await dedupeJob(r.store, r.layout, r.config, {
            dryRun: opts.dryRun ?? false,
            refresh: cliRefresher(r.store, r.layout),
            onProgress: (p) => {
              if (p.phase !== phase) {
                if (phase !== '') bar.stop();
                phase = p.phase;
                bar.start(p.total, { phase: p.phase === 'hash' ? 'hashing' : 'linking' });
              }
              bar.update(p.done, { phase: p.phase === 'hash' ? 'hashing' : 'linking' });
            },
          });
          if (phase !== '') bar.stop();
          report(opts.json, { ...result, scan }, () => describe(result, scan?.elapsedMs ?? null));
        } finally {
          r.close();
        }
      }),
    );
}

function describe(r: DedupeReport, scanMs: number | null): string {
  const verb = r.dryRun ? 'would link' : 'linked';
  const lines = [
    `${r.groups} groups of identical files; ${verb} ${r.filesLinked} files, ${r.dryRun ? 'would save' : 'saved'} ${formatBytes(r.bytesSaved)}`,
  ];
  const reasons = Object.entries(r.skipped) as Array<[SkipReason, { files: number; bytes: number }]>;
  if (reasons.length > 0) {
    lines.push(`skipped ${formatBytes(r.bytesSkipped)}:`);
    for (const [why, s] of reasons) lines.push(`  ${s.files} files (${formatBytes(s.bytes)}): ${SKIP_REASONS[why]}`);
  }
  if (r.emptyFilesIgnored > 0) lines.push(`${r.emptyFilesIgnored} empty files ignored`);
  if (r.recovered > 0) lines.push(`finished ${r.recovered} replacements an interrupted run left`);
  const t = r.timings;
  lines.push(
    `hashed ${r.hashed.files} files (${formatBytes(r.hashed.bytes)}), compared ${r.compared.pairs} pairs; ` +
      `${scanMs !== null ? `scan ${(scanMs / 1000).toFixed(2)} s, ` : ''}hash ${(t.hashMs / 1000).toFixed(2)} s, compare+link ${(t.compareAndLinkMs / 1000).toFixed(2)} s`,
  );
  if (r.dryRun && r.linked.length > 0) lines.push('would link:', ...r.linked.slice(0, 20).map((l) => `  ${l.path} → ${l.keeper}`));
  return lines.join('\n');
}
