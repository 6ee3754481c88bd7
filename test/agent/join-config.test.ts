import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJoinString, encodeJoinString, loadNasKey, JOIN_PREFIX } from '../../server/src/devices/join-string.js';
import { newFolderSecrets } from '../../server/src/sync/index.js';
import { configFromJoin, loadAgentConfig, saveAgentConfig, agentPaths } from '../../device-agents/config.js';
import { BurrowError } from '../../server/src/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { cli } from './harness.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function tmp(): string {
  const t = tempDir('burrow-join-');
  cleanups.push(t.cleanup);
  return t.dir;
}

function sample(keysDir: string): string {
  return encodeJoinString(
    { device: 'laptop', deviceSecret: newFolderSecrets().readWrite, catalogueSecret: newFolderSecrets().readOnly, addresses: ['127.0.0.1:7421', '192.168.1.5:7421'] },
    loadNasKey(keysDir),
  );
}

function refusal(fn: () => unknown): BurrowError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BurrowError);
    return err as BurrowError;
  }
  throw new Error('expected a refusal');
}

describe('join string', () => {
  it('round-trips, with a NAS key made once (0600) and reused', () => {
    const keys = path.join(tmp(), 'keys');
    const a = loadNasKey(keys);
    const b = loadNasKey(keys);
    expect(a.publicRaw.equals(b.publicRaw)).toBe(true);
    expect(fs.statSync(path.join(keys, 'nas-ed25519.pem')).mode & 0o777).toBe(0o600);
    const s = sample(keys);
    expect(s.startsWith(JOIN_PREFIX)).toBe(true);
    const p = decodeJoinString(`  ${s}\n`);
    expect(p.device).toBe('laptop');
    expect(p.addresses).toEqual(['127.0.0.1:7421', '192.168.1.5:7421']);
    expect(p.nasKey).toBe(a.publicRaw.toString('base64url'));
  });

  it('refuses a tampered, truncated, foreign or garbled string, saying what is wrong', () => {
    const s = sample(path.join(tmp(), 'keys'));
    const body = s.slice(JOIN_PREFIX.length, s.indexOf('.'));
    // Change one address inside the signed payload and re-encode it: the signature no longer matches.
    const forged = Buffer.from(Buffer.from(body, 'base64url').toString('utf8').replace('192.168.1.5', '10.6.6.6')).toString('base64url');
    expect(refusal(() => decodeJoinString(JOIN_PREFIX + forged + s.slice(s.indexOf('.')))).message).toMatch(/signature does not match/);
    expect(refusal(() => decodeJoinString(s.slice(0, s.length - 10))).message).toMatch(/signature is cut short/);
    expect(refusal(() => decodeJoinString(s.slice(0, 40))).code).toBe('BAD_JOIN_STRING');
    expect(refusal(() => decodeJoinString('hello')).message).toMatch(/must start with "burrow1:"/);
    expect(refusal(() => decodeJoinString(s.replace('.', '!'))).code).toBe('BAD_JOIN_STRING');
    // One character inside the signature (not the last one, whose low bits are padding).
    const at = s.length - 20;
    const flipped = s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    expect(refusal(() => decodeJoinString(flipped)).message).toMatch(/signature/);
  });

  it('the CLI refuses a bad join string with a clear message and exit 1', () => {
    const r = cli(['agent', '--root', path.join(tmp(), 'dev'), '--join', 'burrow1:nonsense.more']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/This join string is not valid/);
    expect(r.stderr).toMatch(/burrow device add/);
  });

  it('`burrow device add` keeps its fields and adds the join string; `device join` reprints it', () => {
    const root = path.join(tmp(), 'nas');
    const init = cli(['init', '--root', root]);
    expect(init.status, init.stderr).toBe(0);
    const r = cli(['device', 'add', 'phone', '--root', root, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { name: string; quotaBytes: null; folder: string; join: string };
    expect(j.name).toBe('phone');
    expect(j.folder).toBe(path.join(root, 'devices', 'phone'));
    const p = decodeJoinString(j.join);
    expect(p.device).toBe('phone');
    expect(p.addresses).toContain('127.0.0.1:7421');
    const again = JSON.parse(cli(['device', 'join', 'phone', '--root', root, '--json']).stdout) as { join: string };
    const p2 = decodeJoinString(again.join);
    // Same secrets and NAS key every time: they live in the NAS database and keys folder.
    expect([p2.deviceSecret, p2.catalogueSecret, p2.nasKey]).toEqual([p.deviceSecret, p.catalogueSecret, p.nasKey]);
    expect(cli(['device', 'join', 'nobody', '--root', root]).status).toBe(1);
  });
});

describe('agent config', () => {
  it('is written 0600 after a join, read back, and validated key by key', () => {
    const root = tmp();
    const join = decodeJoinString(sample(path.join(tmp(), 'keys')));
    const cfg = configFromJoin(root, join, null, { httpPort: 0, storageLimitMb: 2048 });
    saveAgentConfig(cfg);
    const p = agentPaths(root);
    expect(fs.statSync(p.config).mode & 0o777).toBe(0o600);
    expect(loadAgentConfig(root)).toEqual(cfg);
    const bad = { ...cfg, http: { host: '0.0.0.0', port: 7422 } };
    fs.writeFileSync(p.config, JSON.stringify(bad));
    expect(refusal(() => loadAgentConfig(root)).message).toMatch(/\/http\/host/);
    fs.writeFileSync(p.config, '{not json');
    expect(refusal(() => loadAgentConfig(root)).code).toBe('BAD_AGENT_CONFIG');
    expect(refusal(() => loadAgentConfig(tmp())).code).toBe('AGENT_NOT_JOINED');
  });

  it('refuses a join string from another NAS or for another device on a joined root', () => {
    const root = tmp();
    const first = decodeJoinString(sample(path.join(tmp(), 'keys')));
    const cfg = configFromJoin(root, first, null);
    const otherNas = decodeJoinString(sample(path.join(tmp(), 'keys')));
    expect(refusal(() => configFromJoin(root, otherNas, cfg)).code).toBe('JOIN_OTHER_NAS');
    expect(refusal(() => configFromJoin(root, { ...first, device: 'phone' }, cfg)).code).toBe('JOIN_OTHER_DEVICE');
    // The same NAS again (e.g. new addresses) is fine and keeps local settings.
    const again = configFromJoin(root, { ...first, addresses: ['10.0.0.2:7421'] }, { ...cfg, storageLimitMb: 10 });
    expect(again.nas.addresses).toEqual(['10.0.0.2:7421']);
    expect(again.storageLimitMb).toBe(10);
  });
});
