/**
 * Soak finding 1, reduced: revoke (and revoke-share) leave shared/<id>/ behind, because the sync
 * engine's own .burrow-sync/tmp/ inside it keeps the planned `rmdir ifEmpty` from removing it.
 * Run: npm run build && node dist/scripts/soak/repro-revoke-leftover.js  (prints BUG or OK; exit 1 on BUG)
 */
import fs from 'node:fs';
import path from 'node:path';
import { addDevice, startNas, stopProc, tempRoot, waitFor } from '../../test/agent/harness.js';

const base = tempRoot('repro-revoke-');
const root = path.join(base, 'nas');
fs.mkdirSync(path.join(root, 'files'), { recursive: true });
fs.writeFileSync(path.join(root, 'files', 'a.txt'), 'hello\n');
const nas = await startNas(root);
addDevice(root, 'alpha');
const tok = fs.readFileSync(path.join(root, '.burrow', 'api-token'), 'utf8').trim();
const post = async (b: object) =>
  (await (await fetch(new URL('/api/requests', nas.url), { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify(b) })).json()) as { state: string; reason?: string; result?: { shareId?: string } };
const share = await waitFor('the share', async () => {
  const r = await post({ id: `share-${Date.now()}`, device: 'alpha', action: 'share', path: 'a.txt', args: {}, confirm: true });
  return r.state === 'done' ? r : null;
}, 30_000, 500);
const id = share.result!.shareId!;
const dir = path.join(root, 'shared', id);
await waitFor('the engine serving the share', () => fs.existsSync(path.join(dir, '.burrow-sync')), 30_000, 100);
const r = await post({ id: 'revoke-00001', device: 'alpha', action: 'revoke', path: 'a.txt', args: { shareId: id }, confirm: true });
await new Promise((res) => setTimeout(res, 1500));
const left = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String) : null;
process.stdout.write(`revoke: ${r.state}; shared/${id} ${left ? `still exists with ${JSON.stringify(left)}: BUG` : 'is gone: OK'}\n`);
await stopProc(nas);
fs.rmSync(base, { recursive: true, force: true });
process.exit(left ? 1 : 0);
