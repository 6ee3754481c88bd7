import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, exists, type Fixture } from '../requests/fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('mkdir', () => {
  it('creates files/<path>/<name>, also on devices subscribed to the parent', async () => {
    fx = await makeFixture({ files: { 'docs/a.txt': 'a' } });
    await fx.run('get', 'docs');
    const st = await fx.run('mkdir', 'docs', { args: { name: 'Taxes 2026' } });
    expect(st).toMatchObject({ state: 'done', result: { created: 'docs/Taxes 2026', alsoOn: ['phone'] } });
    expect(fs.statSync(fx.files('docs/Taxes 2026')).isDirectory()).toBe(true);
    expect(fs.statSync(fx.dev('phone', 'docs/Taxes 2026')).isDirectory()).toBe(true);
    expect((await fx.run('mkdir', '', { args: { name: 'top' } })).state).toBe('done');
  });

  it.each([
    [{}, /needs the new folder's name/],
    [{ name: 'a/b' }, /must be one name/],
    [{ name: '..' }, /contains "\.\."/],
    [{ name: '.burrow-tmp-x' }, /reserved/],
    [{ name: 'x\\y' }, /backslash/],
  ])('refuses a bad name %j', async (args, why) => {
    fx = await makeFixture({ files: { 'docs/a.txt': 'a' } });
    const st = await fx.run('mkdir', 'docs', { args });
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(why);
    expect(fs.readdirSync(fx.files('docs'))).toEqual(['a.txt']);
  });

  it('refuses an existing name and a file as parent', async () => {
    fx = await makeFixture({ files: { 'docs/a.txt': 'a' } });
    expect((await fx.run('mkdir', 'docs', { args: { name: 'a.txt' } })).reason).toMatch(/already exists/);
    expect((await fx.run('mkdir', 'docs/a.txt', { args: { name: 'x' } })).reason).toMatch(/not a folder/);
    expect(exists(fx.files('docs/a.txt/x'))).toBe(false);
  });
});
