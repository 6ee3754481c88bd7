/** `burrow request`, `burrow trash`, `burrow share`/`revoke` as users run them (dist/; npm run build first). */
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { burrow, burrowBackground, exitOf } from '../helpers/cli.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { ownerFetch } from '../helpers/nas-auth.js';

const t = tempDir('burrow-reqcli-');
afterAll(() => t.cleanup());

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function newRoot(name: string): string {
  const root = path.join(t.dir, name);
  expect(burrow(['init', '--root', root]).status).toBe(0);
  expect(burrow(['device', 'add', 'phone', '--root', root]).status).toBe(0);
  expect(burrow(['device', 'add', 'laptop', '--root', root]).status).toBe(0);
  writeFiles(path.join(root, 'files'), { 'docs/a.txt': 'a', 'docs/b.txt': 'b' });
  return root;
}

describe('burrow request without a running NAS (in-process, under the root lock)', () => {
  it('runs requests, reports failures with exit code 1, and manages the trash and shares', () => {
    const root = newRoot('offline');
    const get = burrow(['request', 'get', 'docs', '--device', 'phone', '--root', root, '--json']);
    expect(get.status).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ state: 'done', result: { linked: 2 } });
    expect(fs.statSync(path.join(root, 'devices/phone/docs/a.txt')).ino).toBe(fs.statSync(path.join(root, 'files/docs/a.txt')).ino);

    const refused = burrow(['request', 'destroy', 'docs/a.txt', '--root', root]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/destroy docs\/a\.txt: failed — destroy removes data everywhere, so it needs confirmation/);

    expect(burrow(['request', 'destroy', 'docs/a.txt', '--yes', '--root', root]).status).toBe(0);
    const list = JSON.parse(burrow(['trash', 'list', '--root', root, '--json']).stdout) as Array<{ id: string; originalPath: string }>;
    expect(list.map((i) => i.originalPath)).toEqual(['docs/a.txt']);
    const restored = JSON.parse(burrow(['trash', 'restore', list[0]!.id, '--root', root, '--json']).stdout) as { restored: string[] };
    expect(restored.restored).toEqual(['docs/a.txt']);
    expect(fs.readFileSync(path.join(root, 'files/docs/a.txt'), 'utf8')).toBe('a');

    const share = JSON.parse(burrow(['share', 'docs/b.txt', '--root', root, '--json']).stdout) as { result: { shareId: string; secretNote: string } };
    expect(share.result.secretNote).toBe('sync engine not running; no secret yet');
    expect(fs.existsSync(path.join(root, 'shared', share.result.shareId, 'b.txt'))).toBe(true);
    const revoke = burrow(['revoke', share.result.shareId, '--root', root, '--json']);
    expect(JSON.parse(revoke.stdout)).toMatchObject({ action: 'revoke', state: 'done' });
    expect(fs.existsSync(path.join(root, 'shared', share.result.shareId))).toBe(false);
  });
});

describe('burrow request with a running NAS', () => {
  it('posts to the NAS over HTTP instead of touching the root itself', async () => {
    const root = newRoot('online');
    const port = await freePort();
    // The CLI finds the running NAS through the config's http.host and http.port.
    const cfg = path.join(root, '.burrow/config.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('  port: 7420', `  port: ${port}`).replace('  port: 7421', '  port: 0'));
    const nas = await burrowBackground(['start', '--root', root, '--host', '127.0.0.1'], 'Burrow NAS running');
    try {
      const r = burrow(['request', 'get', 'docs/b.txt', '--device', 'laptop', '--root', root, '--json', '--id', 'via-http-0001']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ id: 'via-http-0001', state: 'done' });
      // The API answers only the owner; the CLI above sent .burrow/api-token.
      expect((await fetch(`http://127.0.0.1:${port}/api/requests/via-http-0001`)).status).toBe(401);
      const seen = await (await ownerFetch(root, `http://127.0.0.1:${port}/api/requests/via-http-0001`)).json();
      expect(seen).toMatchObject({ state: 'done', device: 'laptop' });
      expect(fs.existsSync(path.join(root, 'devices/laptop/docs/b.txt'))).toBe(true);
    } finally {
      nas.child.kill('SIGTERM');
      await exitOf(nas.child);
    }
  });
});
