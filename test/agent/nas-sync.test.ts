import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { SyncEngine, newFolderSecrets } from '../../server/src/sync/index.js';
import { SharesRepo } from '../../server/src/store/shares-repo.js';
import { SecretsRepo } from '../../server/src/store/secrets-repo.js';
import type { NasFolderSync } from '../../server/src/nas-sync/service.js';
import { effectiveQuota, parseAgentReport } from '../../server/src/nas-sync/agent-report.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

/**
 * The NAS's FolderSync service against bare sync-engine peers on 127.0.0.1: share secrets,
 * revoke stopping a friend's updates at once, and a device's storage report becoming its quota.
 */
let root: string;
let cleanup: () => void;
let nas: RunningNas;
let fsync: NasFolderSync;
const peers: SyncEngine[] = [];

async function peer(dir: string, secret: string, mode: 'receive-only' | 'send-receive'): Promise<SyncEngine> {
  const e = new SyncEngine({ stateDir: path.join(dir, '.state'), listen: { host: '127.0.0.1', port: 0 }, knownHosts: [`127.0.0.1:${fsync.port}`], dialIntervalMs: 200 });
  await e.open();
  peers.push(e);
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  await e.addFolder({ id: 'f', path: path.join(dir, 'data'), secret, mode });
  return e;
}

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('burrow-nas-sync-'));
  initRoot(root);
  const cfgFile = path.join(root, '.burrow', 'config.yaml');
  fs.writeFileSync(cfgFile, fs.readFileSync(cfgFile, 'utf8').replace(/^( {2}host:) 0\.0\.0\.0$/m, '$1 127.0.0.1').replace(/^( {2}port:) 7421$/m, '$1 0').replace(/^( {2}dht:) true$/m, '$1 false').replace(/^( {2}lan:) true$/m, '$1 false'));
  const r = openRoot(root);
  addDevice(r, 'laptop', 100);
  r.close();
  nas = await startNas(root, { port: 0, host: '127.0.0.1' });
  fsync = nas.ctx.services.get('folder-sync') as NasFolderSync;
});

afterAll(async () => {
  for (const p of peers) await p.close();
  await nas?.stop();
  cleanup?.();
});

describe('NAS folder sync', () => {
  it('serves the catalogue and every device folder, with secrets kept across calls', () => {
    expect(fsync.port).toBeGreaterThan(0);
    const ids = fsync.syncEngine!.listFolders().map((f) => f.id).sort();
    expect(ids).toEqual(['catalogue:catalogue', 'device:laptop']);
    const s = fsync.secretsOf('device', 'laptop')!;
    expect(s.readWrite.startsWith('A')).toBe(true);
    expect(fsync.secretsOf('catalogue', 'catalogue')!.readOnly.startsWith('B')).toBe(true);
  });

  it('a share gets a read-only secret; after revoke the friend gets no new bytes', async () => {
    const shareDir = path.join(root, 'shared', 's1');
    fs.mkdirSync(shareDir, { recursive: true });
    fs.writeFileSync(path.join(shareDir, 'before.txt'), 'shared before revoke\n');
    const secrets = await fsync.addFolder('share', 's1', shareDir, 'send-only');
    expect(secrets.readOnly.startsWith('B')).toBe(true);
    expect(fsync.secretsOf('share', 's1')).toEqual(secrets);
    const friendDir = tempDir('burrow-friend-');
    const friend = await peer(friendDir.dir, secrets.readOnly, 'receive-only');
    const got = path.join(friendDir.dir, 'data', 'before.txt');
    await waitFor(() => fs.existsSync(got), 15_000);
    const bytesBefore = friend.listPeers().reduce((a, p) => a + p.bytesIn, 0);
    await fsync.removeFolder('share', 's1');
    expect(fsync.secretsOf('share', 's1')).toBeUndefined();
    // Removal closed the friend's connection before it returned.
    await waitFor(() => friend.listPeers().length === 0, 5000);
    fs.writeFileSync(path.join(shareDir, 'after.txt'), 'written after revoke\n');
    await new Promise((r) => setTimeout(r, 2500)); // several dial intervals of the friend
    expect(fs.existsSync(path.join(friendDir.dir, 'data', 'after.txt'))).toBe(false);
    expect(friend.listPeers().reduce((a, p) => a + p.bytesIn, 0)).toBe(0);
    expect(bytesBefore).toBeGreaterThan(0);
    friendDir.cleanup();
  });

  it('share and revoke through the request processor: the friend gets the file, then no new bytes and no deletions', async () => {
    type Req = { submit(raw: unknown, source: string): { done: Promise<{ state: string; reason?: string; result?: unknown }> } };
    const requests = nas.ctx.services.get('requests') as Req;
    fs.writeFileSync(path.join(root, 'files', 'for-friend.txt'), 'for a friend\n');
    nas.ctx.indexer.refresh([path.join(root, 'files', 'for-friend.txt')]);
    const shared = await requests.submit({ id: 'share-req-0001', device: 'laptop', action: 'share', path: 'for-friend.txt', args: {}, confirm: true }, 'cli').done;
    expect(shared.state, shared.reason).toBe('done');
    const result = shared.result as { shareId: string; secrets: { readOnly: string } };
    expect(result.secrets.readOnly.startsWith('B')).toBe(true);
    const friendDir = tempDir('burrow-friend2-');
    const friend = await peer(friendDir.dir, result.secrets.readOnly, 'receive-only');
    const got = path.join(friendDir.dir, 'data', 'for-friend.txt');
    await waitFor(() => fs.existsSync(got), 15_000);
    const revoked = await requests.submit({ id: 'revoke-req-0001', device: 'laptop', action: 'revoke', path: 'for-friend.txt', args: { shareId: result.shareId }, confirm: true }, 'cli').done;
    expect(revoked.state, revoked.reason).toBe('done');
    await waitFor(() => friend.listPeers().length === 0, 5000);
    await new Promise((r) => setTimeout(r, 2000));
    // The folder left the engine before its files were unlinked: the friend saw no deletion.
    expect(fs.readFileSync(got, 'utf8')).toBe('for a friend\n');
    expect(friend.listPeers().length).toBe(0);
    friendDir.cleanup();
  });

  it("a device's storage report becomes its quota (never above the admin's --quota)", async () => {
    const devDir = tempDir('burrow-dev-');
    const dev = await peer(devDir.dir, fsync.secretsOf('device', 'laptop')!.readWrite, 'send-receive');
    const report = { v: 1, device: 'laptop', limitBytes: 50 * 1024 * 1024, freeBytes: 10 * 1024 * 1024 * 1024, usedBytes: 0, agentVersion: 'test', at: Date.now() };
    fs.mkdirSync(path.join(devDir.dir, 'data', '.burrow'), { recursive: true });
    fs.writeFileSync(path.join(devDir.dir, 'data', '.burrow', 'agent-report.json'), JSON.stringify(report));
    await dev.rescan('f');
    await waitFor(() => nas.ctx.store.devices.get('laptop')!.effective_quota_bytes === 50 * 1024 * 1024, 15_000);
    expect(nas.ctx.store.devices.get('laptop')!.quota_bytes).toBe(100 * 1024 * 1024); // the admin's limit stands
    // A bigger limit does not raise the admin's 100 MB.
    fs.writeFileSync(path.join(devDir.dir, 'data', '.burrow', 'agent-report.json'), JSON.stringify({ ...report, limitBytes: 500 * 1024 * 1024, at: Date.now() }));
    await dev.rescan('f');
    await waitFor(() => nas.ctx.store.devices.get('laptop')!.effective_quota_bytes === 100 * 1024 * 1024, 15_000);
    devDir.cleanup();
  });

  it('at start, serves every active share (made while it was off) and never a revoked one', async () => {
    await nas.stop();
    const r = openRoot(root);
    const shares = new SharesRepo(r.store.db);
    for (const id of ['live-share', 'dead-share']) {
      fs.mkdirSync(path.join(root, 'shared', id), { recursive: true });
      shares.add({ id, kind: 'folder', source_path: 'x', limit_mb: null, created_by: 'test', created_at: Date.now() });
    }
    new SecretsRepo(r.store.db).ensure('share', 'dead-share', newFolderSecrets().readWrite);
    shares.revoke('dead-share', null);
    r.close();
    nas = await startNas(root, { port: 0, host: '127.0.0.1' });
    fsync = nas.ctx.services.get('folder-sync') as NasFolderSync;
    const ids = fsync.syncEngine!.listFolders().map((f) => f.id);
    expect(ids).toContain('share:live-share');
    expect(ids).not.toContain('share:dead-share');
    expect(fsync.secretsOf('share', 'live-share')!.readOnly.startsWith('B')).toBe(true);
    expect(fsync.secretsOf('share', 'dead-share')).toBeUndefined();
  });

  it('parses reports strictly and takes the smallest cap', () => {
    expect(parseAgentReport('{"v":1,"device":"x","limitBytes":null,"freeBytes":5,"usedBytes":1}')).toMatchObject({ limitBytes: null, freeBytes: 5 });
    expect(parseAgentReport('{"v":1,"device":"x","limitBytes":-1,"freeBytes":5,"usedBytes":1}')).toBeNull();
    expect(parseAgentReport('not json')).toBeNull();
    expect(parseAgentReport('x'.repeat(5000))).toBeNull();
    const r = parseAgentReport('{"v":1,"device":"x","limitBytes":null,"freeBytes":5,"usedBytes":1}')!;
    expect(effectiveQuota(null, r)).toBe(6);
    expect(effectiveQuota(3, r)).toBe(3);
  });
});
