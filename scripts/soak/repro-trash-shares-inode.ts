/**
 * Soak finding 3, reduced: destroy of a file that dedupe hard-linked to another puts that shared
 * inode into .burrow/trash/, so an in-place edit of the surviving copy (as over SMB) rewrites the
 * "destroyed" version in the trash too: a restore brings back the edit, not what was destroyed.
 * Run: npm run build && node dist/scripts/soak/repro-trash-shares-inode.js  (prints BUG or OK; exit 1 on BUG)
 */
import fs from 'node:fs';
import path from 'node:path';
import { addDevice, cli, startNas, stopProc, tempRoot, waitFor } from '../../test/agent/harness.js';

const base = tempRoot('repro-trash-');
const root = path.join(base, 'nas');
fs.mkdirSync(path.join(root, 'files'), { recursive: true });
const store = (p: string) => path.join(root, 'files', p);
fs.writeFileSync(store('a.bin'), 'the same bytes\n'.repeat(1000));
fs.copyFileSync(store('a.bin'), store('b.bin'));
const nas = await startNas(root);
addDevice(root, 'alpha');
const tok = fs.readFileSync(path.join(root, '.burrow', 'api-token'), 'utf8').trim();
await waitFor('dedupe linked a.bin and b.bin', () => {
  cli(['dedupe', '--root', root, '--json']);
  return fs.statSync(store('a.bin')).ino === fs.statSync(store('b.bin')).ino;
}, 60_000, 1000);
const res = await fetch(new URL('/api/requests', nas.url), {
  method: 'POST',
  headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
  body: JSON.stringify({ id: 'destroy-00001', device: 'alpha', action: 'destroy', path: 'b.bin', args: {}, confirm: true }),
});
process.stdout.write(`destroy b.bin: ${((await res.json()) as { state: string }).state}\n`);
const trashDir = path.join(root, '.burrow', 'trash');
const trashed = fs.readdirSync(trashDir, { recursive: true }).map(String).find((p) => p.endsWith('b.bin'))!;
fs.writeFileSync(store('a.bin'), 'a.bin edited in place afterwards\n');
const now = fs.readFileSync(path.join(trashDir, trashed), 'utf8');
const bug = now.startsWith('a.bin edited');
process.stdout.write(bug ? `BUG: the trashed b.bin (${trashed}) now holds the edit of a.bin\n` : 'OK: the trash kept what was destroyed\n');
await stopProc(nas);
fs.rmSync(base, { recursive: true, force: true });
process.exit(bug ? 1 : 0);
