/**
 * `burrow secret new [--json]`: make a new folder identity and print its
 * read-write secret and the read-only and encrypted secrets derived from it
 * (and a QR code of the read-only secret on a TTY).
 */
import type { Command } from 'commander';
import { qrcode } from '../../util/qrcode.js';
import { newFolderSecrets } from '../../sync/index.js';

export function register(program: Command): void {
  const secret = program.command('secret').description('folder secrets for the sync engine');
  secret
    .command('new')
    .description('make a new folder identity: read-write, read-only and encrypted secrets')
    .option('--json', 'print one JSON document')
    .action(async (opts: { json?: boolean }) => {
      const s = newFolderSecrets();
      if (opts.json) {
        process.stdout.write(JSON.stringify({ readWrite: s.readWrite, readOnly: s.readOnly, encrypted: s.encrypted }) + '\n');
        return;
      }
      process.stdout.write(`read-write: ${s.readWrite}\nread-only:  ${s.readOnly}\nencrypted:  ${s.encrypted}\n`);
      if (process.stdout.isTTY) {
        const qr = await qrcode().toString(s.readOnly, { type: 'terminal', small: true });
        process.stdout.write('\nread-only secret as a QR code:\n' + qr + '\n');
      }
    });
}
