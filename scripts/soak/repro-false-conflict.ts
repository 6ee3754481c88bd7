/**
 * Soak finding 2, reduced: after the owner edits a store file in place (same inode, as over SMB),
 * the next edit a device makes of its in-sync copy is taken for a conflict: the store keeps the
 * older version and the device's edit lands in <name>.conflict-<device>-<stamp>. device_links still
 * holds the size/mtime from when the link was made, so adopt's "store unchanged" test fails.
 * Run: npm run build && node dist/scripts/soak/repro-false-conflict.js  (prints BUG or OK; exit 1 on BUG)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { addDevice, sameBytes, startAgent, startNas, stopProc, tempRoot, waitFor } from '../../test/agent/harness.js';

const base = tempRoot('repro-conflict-');
const root = path.join(base, 'nas');
fs.mkdirSync(path.join(root, 'files'), { recursive: true });
const store = (p: string) => path.join(root, 'files', p);
fs.writeFileSync(store('f.txt'), 'version 1\n');
const nas = await startNas(root);
const A = await startAgent(path.join(base, 'alpha'), addDevice(root, 'alpha'));
const dev = (p: string) => path.join(A.root, 'files', p);
await waitFor('the first sync', () => fs.existsSync(path.join(A.root, 'files', '.burrow', 'device.js')), 60_000, 100);
await fetch(`${A.url}api/requests`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-burrow-token': A.token() }, body: JSON.stringify({ id: crypto.randomUUID(), device: 'alpha', action: 'get', path: 'f.txt', args: {}, confirm: true }) });
await waitFor('f.txt on alpha', () => sameBytes(dev('f.txt'), store('f.txt')), 60_000, 100);
fs.writeFileSync(store('f.txt'), 'version 2, edited in the store in place\n');
await waitFor('version 2 on alpha', () => sameBytes(dev('f.txt'), store('f.txt')), 60_000, 100);
await new Promise((r) => setTimeout(r, 3000));
fs.writeFileSync(dev('f.txt'), 'version 3, edited on alpha\n');
const outcome = await waitFor('the NAS to take the edit', () => {
  if (fs.readFileSync(store('f.txt'), 'utf8').startsWith('version 3')) return 'OK: the edit became the store copy';
  const c = fs.readdirSync(path.join(root, 'files')).find((n) => n.includes('.conflict-'));
  return c ? `BUG: the store kept version 2 and the edit went to ${c}` : null;
}, 60_000, 200);
process.stdout.write(`${outcome}\n`);
await stopProc(A);
await stopProc(nas);
fs.rmSync(base, { recursive: true, force: true });
process.exit(outcome.startsWith('BUG') ? 1 : 0);
