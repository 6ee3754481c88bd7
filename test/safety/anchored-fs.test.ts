import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anchoredAt, anchorMode, type AnchoredDir } from '../../server/src/anchored-fs/index.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';

let t: ReturnType<typeof tempDir>;
let base: string;
let outside: string;
let a: AnchoredDir;

beforeEach(() => {
  t = tempDir();
  base = path.join(t.dir, 'root');
  outside = path.join(t.dir, 'outside');
  writeFiles(base, { 'files/A/x.txt': 'inside x', 'files/B/y.txt': 'inside y' });
  writeFiles(outside, { 'x.txt': 'outside x', 'keep.txt': 'keep' });
  fs.symlinkSync(outside, path.join(base, 'files/S'));
  fs.symlinkSync(path.join(outside, 'keep.txt'), path.join(base, 'files/B/link-out'));
  a = anchoredAt(base);
});
afterEach(() => t.cleanup());

const outsideListing = () => fs.readdirSync(outside).sort();

describe('anchored-fs: no step goes through a symlink', () => {
  it('runs on Linux with /proc/self/fd anchoring', () => {
    expect(anchorMode).toBe('proc-fd');
  });

  it('does the plain steps inside the base', () => {
    a.mkdirp('devices/d/A');
    a.link('files/A/x.txt', 'devices/d/A/x.txt');
    expect(fs.statSync(path.join(base, 'files/A/x.txt')).nlink).toBe(2);
    a.rename('devices/d/A/x.txt', 'devices/d/x.txt');
    expect(a.lstat('devices/d/x.txt')?.isFile()).toBe(true);
    expect(a.writeFileAtomic('devices/d/.burrow/device.js', 'hello', { skipIfSame: true })).toBe(true);
    expect(a.writeFileAtomic('devices/d/.burrow/device.js', 'hello', { skipIfSame: true })).toBe(false);
    expect(a.readFile('devices/d/.burrow/device.js').toString()).toBe('hello');
    a.unlink('devices/d/x.txt');
    a.rmdir('devices/d/A');
    expect(a.readdir('devices/d')).toEqual(['.burrow']);
    a.rmTree('devices');
    expect(a.lstat('devices')).toBeUndefined();
    expect(a.lstat('no/such/thing')).toBeUndefined();
  });

  it('refuses every step whose parent is a symlink, and changes nothing outside', () => {
    const steps: Array<() => unknown> = [
      () => a.mkdir('files/S/new'),
      () => a.mkdirp('files/S/new/deeper'),
      () => a.link('files/A/x.txt', 'files/S/linked.txt'),
      () => a.link('files/S/x.txt', 'files/A/stolen.txt'),
      () => a.rename('files/S/x.txt', 'files/A/stolen.txt'),
      () => a.rename('files/A/x.txt', 'files/S/moved.txt'),
      () => a.unlink('files/S/x.txt'),
      () => a.rmdir('files/S/sub'),
      () => a.writeFileAtomic('files/S/x.txt', 'overwritten'),
      () => a.readFile('files/S/x.txt'),
      () => a.readdir('files/S'),
      () => a.lstat('files/S/x.txt'),
      () => a.rmTree('files/S/x.txt'),
    ];
    for (const step of steps) expect(step).toThrow(/"files\/S" is a symbolic link/);
    expect(outsideListing()).toEqual(['keep.txt', 'x.txt']);
    expect(fs.readFileSync(path.join(outside, 'x.txt'), 'utf8')).toBe('outside x');
    expect(fs.readdirSync(path.join(base, 'files/A'))).toEqual(['x.txt']);
  });

  it('never follows a symlink as the last name', () => {
    expect(() => a.link('files/B/link-out', 'files/A/copy')).toThrow(/not a regular file/);
    expect(a.lstat('files/A/copy')).toBeUndefined();
    expect(() => a.readFile('files/B/link-out')).toThrow(/ELOOP/);
    expect(a.writeFileAtomic('files/B/link-out', 'replaced the link, not the target')).toBe(true);
    expect(fs.readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('keep');
    a.rmTree('files/S');
    expect(outsideListing()).toEqual(['keep.txt', 'x.txt']);
    expect(fs.lstatSync(path.join(base, 'files')).isDirectory()).toBe(true);
  });

  it('acts in the folder it opened even when the path is swapped during the step', () => {
    a.withParent('files/A/new.txt', (at) => {
      fs.renameSync(path.join(base, 'files/A'), path.join(base, 'files/A-real'));
      fs.symlinkSync(outside, path.join(base, 'files/A'));
      fs.writeFileSync(at, 'written');
    });
    expect(fs.readFileSync(path.join(base, 'files/A-real/new.txt'), 'utf8')).toBe('written');
    expect(outsideListing()).toEqual(['keep.txt', 'x.txt']);
  });

  it('in a batch, keeps folders open between steps, drops what it renamed, and leaks no fd', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    await a.batch(() => {
      expect(a.lstat('files/A/x.txt')?.isFile()).toBe(true);
      a.rename('files/A', 'files/A2');
      a.mkdir('files/A');
      a.writeFileAtomic('files/A/new.txt', 'new');
      for (let i = 0; i < 150; i++) a.mkdirp(`files/many/d${i}/e`);
    });
    expect(fs.readdirSync(path.join(base, 'files/A'))).toEqual(['new.txt']);
    expect(fs.readdirSync(path.join(base, 'files/A2'))).toEqual(['x.txt']);
    expect(fds()).toBe(before);
  });

  it('in a batch, a folder swapped for a symlink after it was opened is still the real one', async () => {
    await a.batch(() => {
      a.mkdir('files/A/first');
      fs.renameSync(path.join(base, 'files/A'), path.join(base, 'files/A-real'));
      fs.symlinkSync(outside, path.join(base, 'files/A'));
      a.writeFileAtomic('files/A/x.txt', 'not outside', { mkdirs: false });
      a.unlink('files/A/x.txt');
    });
    expect(outsideListing()).toEqual(['keep.txt', 'x.txt']);
    expect(fs.readFileSync(path.join(outside, 'x.txt'), 'utf8')).toBe('outside x');
    expect(fs.readdirSync(path.join(base, 'files/A-real'))).toEqual(['first']);
    // A new batch opens it again, and refuses the symlink.
    await expect(a.batch(() => a.mkdir('files/A/second'))).rejects.toThrow(/"files\/A" is a symbolic link/);
  });

  it('refuses paths that are not plain', () => {
    for (const bad of ['../x', 'files/../x', '/etc/passwd', 'files//x', 'files/./x', 'a\0b'])
      expect(() => a.unlink(bad)).toThrow(/not a plain relative path/);
    expect(() => a.relOf(outside)).toThrow(/not inside/);
    expect(a.relOf(path.join(base, 'files/A'))).toBe('files/A');
  });
});
