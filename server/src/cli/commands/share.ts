import type { Command } from 'commander';
import { qrcode } from '../../util/qrcode.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';
import { runRequest, withLocalProcessor, httpJson } from '../../requests/run-local.js';
import { requestBody, printResult } from './request.js';
import { shareStateText, type ShareRow } from '../../store/shares-repo.js';

export function register(program: Command): void {
  withRoot(program.command('share [path]').description('share a file or folder read-only (shared/<sha1>-<date>/), or with --limit-mb a read-write shared folder; --list shows shares'))
    .option('--limit-mb <n>', 'share a folder read-write with this size limit in MB (-1 = none)')
    .option('--device <name>', 'record the share as made by this device')
    .option('--list', 'list shares instead')
    .option('--json', 'print one JSON document')
    .action(
      action(async (path: string | undefined, opts: { root?: string; limitMb?: string; device?: string; list?: boolean; json?: boolean }) => {
        const root = rootFrom(opts);
        if (opts.list || path === undefined) {
          const out = await withLocalProcessor(root, async (p) => p.shares.list());
          const rows = out.local ? out.value : ((await httpJson(out.nas, `/api/shares`, 'GET').catch(() => ({ json: [] }))).json as ShareRow[]);
          report(opts.json, rows, () => (rows.length === 0 ? 'no shares yet' : rows.map((s) => `${s.id}  ${shareStateText(s)}  files/${s.source_path}${s.limit_mb !== null ? `  limit ${s.limit_mb < 0 ? 'none' : formatBytes(s.limit_mb * 1024 * 1024)}` : ''}`).join('\n')));
          return;
        }
        const st = await runRequest(root, requestBody(opts.limitMb !== undefined ? 'share-folder' : 'share', path, { device: opts.device, limitMb: opts.limitMb }));
        printResult(st, opts.json);
        const secrets = (st.result as { secrets?: { readOnly?: string } } | undefined)?.secrets;
        if (!opts.json && secrets?.readOnly && process.stdout.isTTY) process.stdout.write(await qrcode().toString(secrets.readOnly, { type: 'terminal', small: true }));
      }),
    );
}
