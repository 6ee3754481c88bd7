import type { Command } from 'commander';
import { action, rootFrom, withRoot } from '../common.js';
import { runRequest, withLocalProcessor, httpJson } from '../../requests/run-local.js';
import { requestBody, printResult } from './request.js';
import { BurrowError } from '../../errors.js';
import type { ShareRow } from '../../store/shares-repo.js';

export function register(program: Command): void {
  withRoot(program.command('revoke <share-id>').description('end a share: stop syncing it, unlink its files, remove its folder (a shared folder moves to <name>-revoked-<dd-mm-yy>/)'))
    .option('--device <name>', 'record the revoke as made by this device')
    .option('--json', 'print one JSON document')
    .action(
      action(async (shareId: string, opts: { root?: string; device?: string; json?: boolean }) => {
        const root = rootFrom(opts);
        const out = await withLocalProcessor(root, async (p) => p.shares.get(shareId));
        const share = out.local ? out.value : ((await httpJson(out.nas, `/api/shares`, 'GET')).json as ShareRow[]).find((s) => s.id === shareId);
        if (!share) throw new BurrowError('UNKNOWN_SHARE', `There is no share ${JSON.stringify(shareId)}.`, 'List shares with "burrow share --list".');
        const st = await runRequest(root, requestBody(share.limit_mb !== null ? 'revoke-share' : 'revoke', share.source_path, { device: opts.device, shareId }));
        printResult(st, opts.json);
      }),
    );
}
