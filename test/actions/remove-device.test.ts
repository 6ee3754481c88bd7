import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { burrow } from '../helpers/cli.js';

/**
 * Issue 14: `burrow device remove` (the remove-device action, journaled). The store keeps every
 * file; the device's links go; what only the device held goes to the trash; its pending
 * requests fail; a kill -9 after any step recovers to the same end. Needs `npm run build`.
 */
const tmps: Array<{ cleanup: () => void }> = [];
afterAll(() => tmps.forEach((t) => t.cleanup()));

function setup(): string {
  const t = tempDir('burrow-rmdev-');
  tmps.push(t);
  initRoot(t.dir);
  writeFiles(path.join(t.dir, 'files'), { 'Music/a.mp3': 'aaaa', 'Music/b.mp3': 'bbbb', 'Music/Docs/n.txt': 'notes' });
  const r = openRoot(t.dir);
  addDevice(r, 'laptop', null);
  addDevice(r, 'phone', null);
  r.close();
  expect(burrow(['request', 'get', 'Music', '--device', 'laptop', '--root', t.dir, '--json']).status).toBe(0);
  // A file only the device has (not adopted into the store yet), and its worklist.
  writeFiles(path.join(t.dir, 'devices/laptop'), { 'Only/mine.txt': 'device only', '.burrow/worklist.jsonl': '' });
  return t.dir;
}

function check(root: string): void {
  const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
  expect(read('files/Music/a.mp3')).toBe('aaaa');
  expect(read('files/Music/b.mp3')).toBe('bbbb');
  expect(read('files/Music/Docs/n.txt')).toBe('notes');
  expect(fs.existsSync(path.join(root, 'devices/laptop'))).toBe(false);
  expect(fs.existsSync(path.join(root, 'devices/phone'))).toBe(true);
  const trash = JSON.parse(burrow(['trash', 'list', '--root', root, '--json']).stdout) as Array<{ id: string; kind: string; originalPath: string }>;
  const item = trash.find((x) => x.kind === 'removed-device');
  expect(item?.originalPath).toBe('devices/laptop');
  expect(fs.readFileSync(path.join(root, '.burrow/trash', item!.id, 'devices/laptop/Only/mine.txt'), 'utf8')).toBe('device only');
  // No link into the store left in the trash: the store copies were unlinked, not moved.
  expect(fs.statSync(path.join(root, 'files/Music/a.mp3')).nlink).toBe(1);
  const list = JSON.parse(burrow(['device', 'list', '--root', root, '--json']).stdout) as Array<{ name: string }>;
  expect(list.map((d) => d.name)).toEqual(['phone']);
  const r = openRoot(root, { readonly: true });
  try {
    expect(r.store.db.prepare("SELECT COUNT(*) FROM subscriptions WHERE device = 'laptop'").pluck().get()).toBe(0);
    expect(r.store.db.prepare("SELECT COUNT(*) FROM entries WHERE area = 'device:laptop'").pluck().get()).toBe(0);
  } finally {
    r.close();
  }
}

describe('burrow device remove', () => {
  it('needs --yes, names an unknown device, and removes a device keeping every store file', () => {
    const root = setup();
    const no = burrow(['device', 'remove', 'laptop', '--root', root]);
    expect(no.status).not.toBe(0);
    expect(no.stderr).toContain('--yes');
    const unknown = burrow(['device', 'remove', 'tablet', '--yes', '--root', root, '--json']);
    expect(unknown.stdout + unknown.stderr).toContain('tablet');
    const asDevice = burrow(['request', 'remove-device', '', '--device', 'phone', '--yes', '--root', root, '--json']);
    expect(asDevice.stdout + asDevice.stderr).toMatch(/owner|args\.device/);
    const r = burrow(['device', 'remove', 'laptop', '--yes', '--root', root, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { state: string; result: { linksRemoved: number; keptInTrash: string[] } };
    expect(out.state).toBe('done');
    expect(out.result.linksRemoved).toBe(3);
    expect(out.result.keptInTrash).toEqual(['Only/mine.txt']);
    check(root);
    // The name can be used again, with a fresh folder.
    expect(burrow(['device', 'add', 'laptop', '--root', root, '--json']).status).toBe(0);
    expect(fs.readdirSync(path.join(root, 'devices/laptop'))).toEqual([]);
  }, 240_000);

  it('is kill -9 safe: killed after each step, the next run finishes it the same way', () => {
    // After the unlinks (2), and after the last step before the commit (5, the rename into the trash).
    for (const step of [2, 5]) {
      const root = setup();
      const killed = burrow(['device', 'remove', 'laptop', '--yes', '--root', root, '--json'], { env: { BURROW_FAULT_AFTER_STEP: String(step), BURROW_FAULT_ACTION: 'remove-device' } });
      expect(killed.signal, `step ${step}`).toBe('SIGKILL');
      // Any next command that opens the processor recovers the journal first.
      burrow(['request', 'get', 'Music/Docs', '--device', 'phone', '--root', root, '--json']);
      check(root);
    }
  }, 400_000);
});
