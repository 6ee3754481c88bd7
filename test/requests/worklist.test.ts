import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeServiceFixture, type ServiceFixture } from './service-fixture.js';
import { worklistPath } from '../../server/src/requests/worklist.js';
import { waitFor } from '../helpers/tmp.js';

let fx: ServiceFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const line = (o: object) => JSON.stringify(o) + '\n';
function append(f: ServiceFixture, device: string, text: string): void {
  const wl = worklistPath(f.r.layout, device);
  fs.mkdirSync(path.dirname(wl), { recursive: true });
  fs.appendFileSync(wl, text);
}
const finalOf = (f: ServiceFixture, id: string) => waitFor(() => {
  const s = f.svc.status(id);
  return s && (s.state === 'done' || s.state === 'failed') ? s : undefined;
}, 5000);

describe('worklists', () => {
  it('a line appended by the device becomes a link within a second (fs.watch), with events', async () => {
    fx = await makeServiceFixture({ 'a.txt': 'a' });
    fs.mkdirSync(path.dirname(worklistPath(fx.r.layout, 'phone')), { recursive: true });
    fx.svc.pollAll(); // starts the watcher on the new .burrow folder
    const t0 = Date.now();
    append(fx, 'phone', line({ id: 'wl-get-00001', device: 'phone', action: 'get', path: 'a.txt' }));
    await waitFor(() => fs.existsSync(fx!.r.layout.device('phone') + '/a.txt'), 2000, 5);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await finalOf(fx, 'wl-get-00001')).state).toBe('done');
    expect(fx.events).toContainEqual(['request-updated', { id: 'wl-get-00001', device: 'phone' }]);
    expect(fx.events).toContainEqual(['links-changed', { device: 'phone' }]);
    expect(fx.svc.recentForDevice('phone', 10).map((s) => s.id)).toEqual(['wl-get-00001']);
  });

  it('bad lines each get a failed result a person understands, and never stop the lines after them', async () => {
    fx = await makeServiceFixture({ 'a.txt': 'a', 'b.txt': 'b' });
    append(
      fx,
      'phone',
      '{not json\n' +
        JSON.stringify({ id: 'too-long-line-1', device: 'phone', action: 'get', path: 'x'.repeat(70 * 1024) }) + '\n' +
        line({ id: 'unknown-act-1', device: 'phone', action: 'teleport', path: 'a.txt' }) +
        line({ id: 'other-device-1', device: 'laptop', action: 'get', path: 'a.txt' }) +
        line({ id: 'trick-path-01', device: 'phone', action: 'get', path: '../../etc/passwd' }) +
        line({ device: 'phone', action: 'get', path: 'a.txt' }) +
        '\n' +
        line({ id: 'good-line-001', device: 'phone', action: 'get', path: 'b.txt' }),
    );
    fx.svc.pollDevice('phone');
    expect((await finalOf(fx, 'good-line-001')).state).toBe('done');
    const all = fx.svc.recentForDevice('phone', 50);
    const reasons = all.filter((s) => s.state === 'failed').map((s) => s.reason);
    expect(reasons).toHaveLength(6);
    expect(reasons.join('\n')).toMatch(/not valid JSON/);
    expect(reasons.join('\n')).toMatch(/the limit is 65536 bytes \(64 KiB\)/);
    expect(reasons.join('\n')).toMatch(/Unknown action "teleport"/);
    expect(reasons.join('\n')).toMatch(/belongs to phone, so it cannot make requests for "laptop"/);
    expect(reasons.join('\n')).toMatch(/contains "\.\."/);
    expect(reasons.join('\n')).toMatch(/request id is missing/);
    expect(fs.existsSync(fx.r.layout.device('laptop') + '/a.txt')).toBe(false);
  });

  it('waits for a partial last line, keeps its offset across restarts, and runs a repeated id once', async () => {
    fx = await makeServiceFixture({ 'a.txt': 'a', 'b.txt': 'b' });
    append(fx, 'phone', line({ id: 'first-line-01', device: 'phone', action: 'get', path: 'a.txt' }) + '{"id": "second-line-1", "device": "phone", ');
    fx.svc.pollDevice('phone');
    await finalOf(fx, 'first-line-01');
    expect(fx.svc.status('second-line-1')).toBeUndefined();
    await fx.reopen();
    append(fx, 'phone', '"action": "get", "path": "b.txt"}\n' + line({ id: 'first-line-01', device: 'phone', action: 'delete', path: 'a.txt' }));
    fx.svc.pollDevice('phone');
    expect((await finalOf(fx, 'second-line-1')).state).toBe('done');
    await fx.svc.processor.idle();
    // the repeated id did not run its (different) second request
    expect(fs.existsSync(fx.r.layout.device('phone') + '/a.txt')).toBe(true);
    expect(fx.svc.status('first-line-01')?.action).toBe('get');
    expect(fx.r.store.db.prepare('SELECT count(*) FROM requests').pluck().get()).toBe(2);
  });

  it('a worklist that was truncated or replaced is read again from the start; known ids do not run twice', async () => {
    fx = await makeServiceFixture({ 'a.txt': 'a', 'b.txt': 'b' });
    append(fx, 'phone', line({ id: 'before-replace-1', device: 'phone', action: 'get', path: 'a.txt' }) + line({ id: 'before-replace-2', device: 'phone', action: 'mkdir', path: '', args: { name: 'made-once' } }));
    fx.svc.pollDevice('phone');
    await finalOf(fx, 'before-replace-2');
    // A sync conflict replaced the file: shorter, different first line, new inode.
    const wl = worklistPath(fx.r.layout, 'phone');
    fs.writeFileSync(wl + '.new', line({ id: 'after-replace-1', device: 'phone', action: 'get', path: 'b.txt' }) + line({ id: 'before-replace-2', device: 'phone', action: 'mkdir', path: '', args: { name: 'made-once' } }));
    fs.renameSync(wl + '.new', wl);
    fx.svc.pollDevice('phone');
    expect((await finalOf(fx, 'after-replace-1')).state).toBe('done');
    expect(fx.svc.status('before-replace-2')?.state).toBe('done'); // not re-run (a re-run would fail: folder exists)
    expect(fx.r.store.db.prepare('SELECT count(*) FROM requests').pluck().get()).toBe(3);
  });

  it('never follows a symlinked .burrow folder planted in a device folder', async () => {
    fx = await makeServiceFixture({ 'a.txt': 'a' });
    const elsewhere = path.join(fx.r.layout.root, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 'worklist.jsonl'), line({ id: 'planted-line-1', device: 'phone', action: 'get', path: 'a.txt' }));
    fs.symlinkSync(elsewhere, path.join(fx.r.layout.device('phone'), '.burrow'));
    fx.svc.pollDevice('phone');
    await fx.svc.processor.idle();
    expect(fx.svc.status('planted-line-1')).toBeUndefined();
  });
});

describe('automatic requests from index changes', () => {
  it('a subscribed folder gets new store files; a local deletion is remembered and not relinked', async () => {
    fx = await makeServiceFixture({ 'music/a.mp3': 'a' });
    await fx.svc.submit({ id: 'get-music-001', device: 'phone', action: 'get', path: 'music' }, 'http').done;
    fs.writeFileSync(fx.r.layout.files + '/music/b.mp3', 'b');
    fx.ctx.indexer.refresh([fx.r.layout.files + '/music/b.mp3']);
    await waitFor(() => fs.existsSync(fx!.r.layout.device('phone') + '/music/b.mp3'));
    expect(fs.statSync(fx.r.layout.device('phone') + '/music/b.mp3').ino).toBe(fs.statSync(fx.r.layout.files + '/music/b.mp3').ino);

    // The phone deletes its copy of a.mp3: the store keeps it, and it does not come back.
    fs.unlinkSync(fx.r.layout.device('phone') + '/music/a.mp3');
    fx.ctx.indexer.refresh([fx.r.layout.device('phone') + '/music/a.mp3']);
    expect(fs.existsSync(fx.r.layout.files + '/music/a.mp3')).toBe(true);
    expect(fx.svc.processor.subscriptions.isExcluded('phone', 'music/a.mp3')).toBe(true);
    fx.ctx.indexer.refresh([fx.r.layout.files + '/music']);
    fs.utimesSync(fx.r.layout.files + '/music/a.mp3', new Date(), new Date());
    fx.ctx.indexer.refresh([fx.r.layout.files + '/music/a.mp3']);
    await fx.svc.processor.idle();
    expect(fs.existsSync(fx.r.layout.device('phone') + '/music/a.mp3')).toBe(false);
  });

  it("a device's new file is adopted into files/ and reaches other devices subscribed to the folder", async () => {
    fx = await makeServiceFixture({ 'shared/x.txt': 'x' });
    await fx.svc.submit({ id: 'get-shared-01', device: 'phone', action: 'get', path: 'shared' }, 'http').done;
    await fx.svc.submit({ id: 'get-shared-02', device: 'laptop', action: 'get', path: 'shared' }, 'http').done;
    fs.writeFileSync(fx.r.layout.device('phone') + '/shared/from-phone.txt', 'hello');
    fx.ctx.indexer.refresh([fx.r.layout.device('phone') + '/shared/from-phone.txt']);
    await waitFor(() => fs.existsSync(fx!.r.layout.device('laptop') + '/shared/from-phone.txt'));
    const ino = fs.statSync(fx.r.layout.device('phone') + '/shared/from-phone.txt').ino;
    expect(fs.statSync(fx.r.layout.files + '/shared/from-phone.txt').ino).toBe(ino);
    expect(fs.statSync(fx.r.layout.device('laptop') + '/shared/from-phone.txt').ino).toBe(ino);
  });
});

describe('trash retention', () => {
  it('the service empties trash items older than trash.retentionDays', async () => {
    fx = await makeServiceFixture({ 'old.txt': 'o' });
    const st = await fx.svc.submit({ id: 'destroy-old-01', device: 'phone', action: 'destroy', path: 'old.txt', confirm: true }, 'http').done;
    const id = (st.result as { trashId: string }).trashId;
    expect(fx.svc.sweepTrash()).toEqual([]);
    expect(fx.svc.sweepTrash(new Date(Date.now() + 7 * 86_400_000 + 1000))).toEqual([id]);
    expect(fs.existsSync(path.join(fx.r.layout.trash, id))).toBe(false);
  });
});

describe('a store file replaced in files/', () => {
  it('is relinked on the devices that held the old version; the old version goes to the trash', async () => {
    fx = await makeServiceFixture({ 'doc.txt': 'v1' });
    await fx.svc.submit({ id: 'get-doc-0001', device: 'phone', action: 'get', path: 'doc.txt' }, 'http').done;
    const storeFile = fx.r.layout.files + '/doc.txt';
    fs.writeFileSync(storeFile + '.tmp', 'v2 edited on the NAS');
    fs.renameSync(storeFile + '.tmp', storeFile);
    fx.ctx.indexer.refresh([storeFile]);
    const phoneFile = fx.r.layout.device('phone') + '/doc.txt';
    await waitFor(() => fs.statSync(phoneFile).ino === fs.statSync(storeFile).ino);
    expect(fs.readFileSync(phoneFile, 'utf8')).toBe('v2 edited on the NAS');
    const trashed = fx.svc.processor.trash.present();
    expect(trashed.map((t) => t.kind)).toEqual(['previous-version']);
    expect(fs.readFileSync(path.join(fx.r.layout.trash, trashed[0]!.id, 'payload/devices/phone/doc.txt'), 'utf8')).toBe('v1');
  });
});
