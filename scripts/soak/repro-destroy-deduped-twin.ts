/**
 * Soak finding 4, reduced: destroy of files/a.bin also takes beta's copy of files/b.bin, a
 * different catalogue entry that is still in the store, because dedupe made the two one inode and
 * remove-everywhere unlinks every device link of the inode (holdersOf) whatever its path.
 * Run: npm run build && node dist/scripts/soak/repro-destroy-deduped-twin.js  (prints BUG or OK; exit 1 on BUG)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { addDevice, cli, sameBytes, startAgent, startNas, stopProc, tempRoot, waitFor } from '../../test/agent/harness.js';

const base = tempRoot('repro-twin-');
const root = path.join(base, 'nas');
fs.mkdirSync(path.join(root, 'files'), { recursive: true });
const store = (p: string) => path.join(root, 'files', p);
fs.writeFileSync(store('a.bin'), 'twins\n'.repeat(1000));
fs.copyFileSync(store('a.bin'), store('b.bin'));
const nas = await startNas(root);
const B = await startAgent(path.join(base, 'beta'), addDevice(root, 'beta'));
await waitFor('the first sync', () => fs.existsSync(path.join(B.root, 'files', '.burrow', 'device.js')), 60_000, 100);
await waitFor('dedupe linked a.bin and b.bin', () => {
  cli(['dedupe', '--root', root, '--json']);
  return fs.statSync(store('a.bin')).ino === fs.statSync(store('b.bin')).ino;
}, 60_000, 1000);
await fetch(`${B.url}api/requests`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-burrow-token': B.token() }, body: JSON.stringify({ id: crypto.randomUUID(), device: 'beta', action: 'get', path: 'b.bin', args: {}, confirm: true }) });
await waitFor('b.bin on beta', () => sameBytes(path.join(B.root, 'files', 'b.bin'), store('b.bin')), 60_000, 100);
const tok = fs.readFileSync(path.join(root, '.burrow', 'api-token'), 'utf8').trim();
const res = await fetch(new URL('/api/requests', nas.url), { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'destroy-00001', device: 'beta', action: 'destroy', path: 'a.bin', args: {}, confirm: true }) });
process.stdout.write(`destroy a.bin: ${((await res.json()) as { state: string }).state}\n`);
await new Promise((r) => setTimeout(r, 3000));
const kept = fs.existsSync(path.join(root, 'devices', 'beta', 'b.bin'));
process.stdout.write(kept ? 'OK: beta still holds b.bin\n' : `BUG: devices/beta/b.bin is gone (files/b.bin still in the store: ${fs.existsSync(store('b.bin'))})\n`);
await stopProc(B);
await stopProc(nas);
fs.rmSync(base, { recursive: true, force: true });
process.exit(kept ? 0 : 1);
