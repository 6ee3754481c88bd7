import type { Command } from 'commander';
import { qrcode } from '../../util/qrcode.js';
import { openRoot } from '../../root/open-root.js';
import { SecretsRepo, type SyncFolderKind } from '../../store/secrets-repo.js';
import { secretsFromReadWrite } from '../../sync/index.js';
import { BurrowError } from '../../errors.js';
import { action, report, rootFrom, withRoot } from '../common.js';

/**
 * `burrow secrets <folder>`: the secrets of a folder the NAS serves. The read-write secret is shown
 * only with --read-write, because a leaked full-access secret cannot be taken back (the
 * complaint users had about BitTorrent Sync); the read-only one is what a friend gets.
 */
export function register(program: Command): void {
  withRoot(program.command('secrets <folder>').description('print the secrets of a synced folder: catalogue, device:<name>, share:<id> (or a bare device name or share id)'))
    .option('--read-write', 'also print the read-write (full access) secret')
    .option('--json', 'print one JSON document')
    .action(
      action(async (folder: string, opts: { root?: string; readWrite?: boolean; json?: boolean }) => {
        const r = openRoot(rootFrom(opts), { readonly: true });
        try {
          const repo = new SecretsRepo(r.store.db);
          const candidates: Array<[SyncFolderKind, string]> = folder === 'catalogue' ? [['catalogue', 'catalogue']] : folder.includes(':') ? [[folder.slice(0, folder.indexOf(':')) as SyncFolderKind, folder.slice(folder.indexOf(':') + 1)]] : [['share', folder], ['device', folder]];
          const row = candidates.map(([k, n]) => repo.get(k, n)).find((x) => x !== undefined);
          if (!row) {
            const known = repo.list().map((x) => (x.kind === 'catalogue' ? 'catalogue' : `${x.kind}:${x.name}`));
            throw new BurrowError('UNKNOWN_FOLDER', `No synced folder named ${JSON.stringify(folder)}.`, known.length ? `Known folders: ${known.join(', ')}` : 'Start the NAS once ("burrow start") so it creates the folder secrets.');
          }
          const s = secretsFromReadWrite(row.read_write);
          const out = { folder: row.kind === 'catalogue' ? 'catalogue' : `${row.kind}:${row.name}`, readOnly: s.readOnly, encrypted: s.encrypted, ...(opts.readWrite ? { readWrite: s.readWrite } : {}) };
          report(opts.json, out, () =>
            [`folder     ${out.folder}`, `read-only  ${s.readOnly}`, `encrypted  ${s.encrypted}`, opts.readWrite ? `read-write ${s.readWrite}   (full access: never share it)` : '(add --read-write to see the full-access secret)'].join('\n'),
          );
          if (!opts.json && process.stdout.isTTY) process.stdout.write(await qrcode().toString(s.readOnly, { type: 'terminal', small: true }));
        } finally {
          r.close();
        }
      }),
    );
}
