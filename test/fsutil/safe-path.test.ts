import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normaliseRelPath, resolveInside } from '../../server/src/fsutil/safe-path.js';
import { writeFileAtomic } from '../../server/src/fsutil/atomic-write.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';

const t = tempDir();
afterAll(t.cleanup);
const base = path.join(t.dir, 'files');
writeFiles(base, { 'a/b.txt': 'b', 'ok dir/ü.txt': 'u' });
fs.mkdirSync(path.join(t.dir, 'outside'));
fs.symlinkSync(path.join(t.dir, 'outside'), path.join(base, 'a/escape'));
fs.symlinkSync('/etc/passwd', path.join(base, 'passwd'));

describe('the one path validation function', () => {
  it('accepts plain relative paths, any Unicode, and a trailing slash', () => {
    expect(normaliseRelPath('a/b.txt')).toBe('a/b.txt');
    expect(normaliseRelPath('a/')).toBe('a');
    expect(normaliseRelPath('')).toBe('');
    expect(resolveInside(base, 'ok dir/ü.txt', { mustExist: true }).abs).toBe(path.join(base, 'ok dir/ü.txt'));
    expect(resolveInside(base, 'a/new-file.txt').rel).toBe('a/new-file.txt');
  });
  it.each([
    ['../etc/passwd', /".."/],
    ['a/../../x', /".."/],
    ['/etc/passwd', /absolute/],
    ['C:/Windows', /absolute/],
    ['a\\..\\b', /backslash/],
    ['a/\0b', /NUL/],
    ['a//b', /empty segment/],
    ['./a', /"\."/],
    ['x'.repeat(256), /longer than 255/],
  ])('refuses %j', (input, why) => {
    expect(() => resolveInside(base, input)).toThrow(why);
  });
  it('refuses any path through a symlink, even one that exists only as a link', () => {
    expect(() => resolveInside(base, 'a/escape/x.txt')).toThrow(/"a\/escape" is a symbolic link/);
    expect(() => resolveInside(base, 'passwd')).toThrow(/symbolic link/);
  });
  it('refuses non-strings and missing paths when they must exist', () => {
    expect(() => resolveInside(base, 42)).toThrow(/must be a string/);
    expect(() => resolveInside(base, 'nope.txt', { mustExist: true })).toThrow(/does not exist/);
    expect(() => resolveInside(base, 'a/b.txt/c', {})).toThrow(/not a folder/);
  });
});

describe('atomic writes', () => {
  it('replaces content atomically and skips identical content', () => {
    const f = path.join(t.dir, 'out/cat.html');
    expect(writeFileAtomic(f, 'one', { skipIfSame: true })).toBe(true);
    const ino = fs.statSync(f).ino;
    expect(writeFileAtomic(f, 'one', { skipIfSame: true })).toBe(false);
    expect(fs.statSync(f).ino).toBe(ino);
    expect(writeFileAtomic(f, 'two')).toBe(true);
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    expect(fs.readdirSync(path.dirname(f))).toEqual(['cat.html']);
  });
});
