import path from 'node:path';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { validateDeviceName } from '../../server/src/devices/device-name.js';
import { initRoot } from '../../server/src/root/open-root.js';
import { tempDir } from '../helpers/tmp.js';
import { burrow } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('device names', () => {
  it('accepts plain names', () => {
    for (const ok of ['laptop', 'HTC-phone', 'win7_Laptop', 'a.b', 'x'.repeat(64)]) expect(validateDeviceName(ok)).toBe(ok);
  });
  it('refuses slashes, dots-only, empty, spaces and over-long names, saying why', () => {
    expect(() => validateDeviceName('a/b')).toThrow(/no slashes/);
    expect(() => validateDeviceName('..')).toThrow(/only dots/);
    expect(() => validateDeviceName('.')).toThrow(/only dots/);
    expect(() => validateDeviceName('')).toThrow(/empty/);
    expect(() => validateDeviceName('my phone')).toThrow(/letters, digits/);
    expect(() => validateDeviceName('x'.repeat(65))).toThrow(/longer than 64/);
    expect(() => validateDeviceName('<script>')).toThrow(/letters, digits/);
  });
});

describe('burrow device add', () => {
  it('registers a device with a quota and creates its folder', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    initRoot(t.dir);
    const r = burrow(['device', 'add', 'phone', '--quota', '2048', '--root', t.dir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'phone', quotaBytes: 2048 * 1024 * 1024 });
    expect(fs.statSync(path.join(t.dir, 'devices/phone')).isDirectory()).toBe(true);
    const again = burrow(['device', 'add', 'phone', '--root', t.dir]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    const bad = burrow(['device', 'add', '../evil', '--root', t.dir]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/Refused device name/);
    expect(fs.existsSync(path.join(t.dir, 'evil'))).toBe(false);
    const list = JSON.parse(burrow(['device', 'list', '--root', t.dir, '--json']).stdout);
    expect(list.map((d: { name: string }) => d.name)).toEqual(['phone']);
  });
});
