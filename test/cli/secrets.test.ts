import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { startNas } from '../../server/src/nas.js';
import { parseSecret } from '../../server/src/sync/index.js';
import { tempDir } from '../helpers/tmp.js';
import { burrow } from '../helpers/cli.js';

const t = tempDir();
afterAll(t.cleanup);

describe('burrow secrets', () => {
  it('prints a folder’s read-only and encrypted secrets, and the read-write one only when asked', async () => {
    initRoot(t.dir);
    fs.appendFileSync(path.join(t.dir, '.burrow/config.yaml'), '\n'); // keep the commented template
    const cfg = fs.readFileSync(path.join(t.dir, '.burrow/config.yaml'), 'utf8').replace('  host: 0.0.0.0\n  port: 7421', '  host: 127.0.0.1\n  port: 0');
    fs.writeFileSync(path.join(t.dir, '.burrow/config.yaml'), cfg);
    const r = openRoot(t.dir);
    addDevice(r, 'laptop', null);
    r.close();
    const nas = await startNas(t.dir, { port: 0, host: '127.0.0.1' });
    await nas.stop();

    const ro = burrow(['secrets', 'device:laptop', '--root', t.dir, '--json']);
    expect(ro.status, ro.stderr).toBe(0);
    const out = JSON.parse(ro.stdout);
    expect(out.folder).toBe('device:laptop');
    expect(out.readWrite).toBeUndefined();
    expect(parseSecret(out.readOnly).level).toBe('ro');
    expect(parseSecret(out.encrypted).level).toBe('enc');

    const rw = JSON.parse(burrow(['secrets', 'laptop', '--read-write', '--root', t.dir, '--json']).stdout);
    expect(parseSecret(rw.readWrite).level).toBe('rw');
    expect(rw.readOnly).toBe(out.readOnly);

    expect(JSON.parse(burrow(['secrets', 'catalogue', '--root', t.dir, '--json']).stdout).folder).toBe('catalogue');
    const unknown = burrow(['secrets', 'nope', '--root', t.dir]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/No synced folder named "nope"/);
    expect(unknown.stderr).toMatch(/device:laptop/);
  });
});
