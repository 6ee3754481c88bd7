import type { Command } from 'commander';
import path from 'node:path';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';
import { withLocalProcessor, httpJson } from '../../requests/run-local.js';
import { listTrash, restoreTrash, emptyTrash, type TrashItem } from '../../actions/trash.js';

export function register(program: Command): void {
  const trash = program.command('trash').description('what destroy removed: kept in .burrow/trash/ for trash.retentionDays (default 7), then emptied');
  withRoot(trash.command('list').description('list trashed items'))
    .option('--json', 'print one JSON document')
    .action(
      action(async (opts: { root?: string; json?: boolean }) => {
        const out = await withLocalProcessor(rootFrom(opts), async (p, r) => listTrash(p.trash, r.config.trash.retentionDays));
        const items = out.local ? out.value : ((await httpJson(out.nas, `/api/trash`, 'GET')).json as TrashItem[]);
        report(opts.json, items, () =>
          items.length === 0 ? 'the trash is empty' : items.map((i) => `${i.id}  files/${i.originalPath}  ${i.kind}, ${i.files} files, ${formatBytes(i.bytes)}  until ${i.expiresAt}`).join('\n'),
        );
      }),
    );
  withRoot(trash.command('restore <id>').description('put a trashed item back into files/ (beside the original name if that is taken)'))
    .option('--json', 'print one JSON document')
    .action(
      action(async (id: string, opts: { root?: string; json?: boolean }) => {
        const out = await withLocalProcessor(rootFrom(opts), async (p, r, indexer) => {
          const restored = restoreTrash(p.trash, r.layout, id);
          indexer.refresh(restored.map((x) => path.join(r.layout.files, x)));
          return { id, restored };
        });
        const res = out.local ? out.value : ((await httpJson(out.nas, `/api/trash/${encodeURIComponent(id)}/restore`, 'POST', {})).json as { id: string; restored: string[] });
        report(opts.json, res, () => `restored ${res.restored.map((x) => `files/${x}`).join(', ') || 'nothing'}`);
      }),
    );
  withRoot(trash.command('empty [id]').description('remove trashed items for good: one id, --all, or (default) those past the retention time'))
    .option('--all', 'everything in the trash')
    .option('--json', 'print one JSON document')
    .action(
      action(async (id: string | undefined, opts: { root?: string; all?: boolean; json?: boolean }) => {
        const body = { ...(id ? { id } : {}), ...(opts.all ? { all: true } : {}) };
        const out = await withLocalProcessor(rootFrom(opts), async (p, r) => emptyTrash(p.trash, r.layout, { ...body, retentionDays: r.config.trash.retentionDays }));
        const emptied = out.local ? out.value : ((await httpJson(out.nas, `/api/trash/empty`, 'POST', body)).json as { emptied: string[] }).emptied;
        report(opts.json, { emptied }, () => (emptied.length === 0 ? 'nothing to empty' : `emptied ${emptied.join(', ')}`));
      }),
    );
}
