import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture, listFiles, type Fixture } from './fixture.js';
import { ACTIONS, REQUEST_ACTIONS, assertRegistryComplete } from '../../server/src/actions/registry.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await makeFixture({ files: { 'docs/a.txt': 'a', 'secret/s.txt': 's' } });
  fs.symlinkSync(fx.files('secret'), fx.files('docs/link'));
  fs.symlinkSync('/etc', fx.files('etc'));
});
afterAll(() => fx.close());

describe('request validation, before anything touches the disk', () => {
  it.each([
    ['../outside', /contains "\.\."/],
    ['docs/../../x', /contains "\.\."/],
    ['/etc/passwd', /absolute paths are not allowed/],
    ['C:/Windows', /absolute paths are not allowed/],
    ['docs/a\0.txt', /NUL byte/],
    ['docs\\a.txt', /backslash/],
    ['docs//a.txt', /empty segment/],
    ['docs/link/s.txt', /"docs\/link" is a symbolic link/],
    ['etc/passwd', /"etc" is a symbolic link/],
    ['docs/nothing.txt', /files\/docs\/nothing\.txt does not exist/],
    ['docs/a.txt/x', /is not a folder/],
    ['.burrow/worklist.jsonl', /\.burrow\/ is reserved/],
  ])('refuses the path %j', async (p, why) => {
    const st = await fx.run('get', p);
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(why);
    expect(listFiles(fx.dev('phone', ''))).toEqual([]);
  });

  it('refuses unknown actions, unknown and malformed devices, missing arguments, and destroy without confirmation', async () => {
    expect((await fx.run('explode', 'docs/a.txt')).reason).toMatch(/Unknown action "explode"/);
    expect((await fx.run('get', 'docs/a.txt', { device: 'ghost' })).reason).toMatch(/no device named "ghost"/);
    expect((await fx.run('get', 'docs/a.txt', { device: '../phone' })).reason).toMatch(/Refused device name/);
    expect((await fx.run('get', 'docs/a.txt', { device: '@nas' })).reason).toMatch(/acts for a device/);
    expect((await fx.run('move', 'docs/a.txt')).reason).toMatch(/needs the devices to move to/);
    expect((await fx.run('revoke', 'docs/a.txt')).reason).toMatch(/needs the share to revoke/);
    expect((await fx.run('destroy', 'docs/a.txt')).reason).toMatch(/needs confirmation/);
    expect((await fx.run('destroy-folder', 'docs')).reason).toMatch(/needs confirmation/);
    expect(listFiles(fx.files('docs'))).toEqual(['a.txt', 'link']);
  });

  it('records a repeated id once and runs it once', async () => {
    const a = fx.proc.submit({ id: 'same-id-123', device: 'phone', action: 'get', path: 'docs/a.txt' }, 'http');
    const b = fx.proc.submit({ id: 'same-id-123', device: 'laptop', action: 'get', path: 'docs/a.txt' }, 'http');
    expect(a.fresh).toBe(true);
    expect(b.fresh).toBe(false);
    expect((await b.done).device).toBe('phone');
    expect(fs.existsSync(fx.dev('laptop', 'docs/a.txt'))).toBe(false);
    expect(fx.proc.journalRepo.forRequest('same-id-123')?.state).toBe('done');
  });

  it('refuses a request without a usable id (nothing to report the result under)', () => {
    expect(() => fx.proc.submit({ id: 'short', device: 'phone', action: 'get', path: 'x' }, 'http')).toThrow(/8-128 letters/);
  });
});

describe('the action registry', () => {
  it('has one action per request type, and start-up fails when one is missing', () => {
    expect(() => assertRegistryComplete()).not.toThrow();
    for (const t of REQUEST_ACTIONS) expect(ACTIONS.get(t)?.name).toBe(t);
    const partial = new Map([...ACTIONS].filter(([k]) => k !== 'move'));
    expect(() => assertRegistryComplete(partial)).toThrow(/No action handles the request type\(s\): move/);
  });
});
