import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dedupeJob, cliRefresher } from '../../server/src/jobs/run-jobs.js';
import { jobsRoot, put, rescan, bytes, type JobsRoot } from '../jobs/fixture.js';

/**
 * Issue 11, item 4: an inode hard-linked from outside the root is never the dedupe keeper, nor
 * linked to, so no store path ever shares an inode with an outside file.
 */
let j: JobsRoot | undefined;
afterEach(() => {
  j?.cleanup();
  j = undefined;
});

const ino = (p: string) => fs.lstatSync(p).ino;

describe('dedupe and inodes linked from outside the root', () => {
  it('keeps an inside inode and leaves the outside-linked copy alone', async () => {
    j = jobsRoot();
    const { files, root } = j.r.layout;
    const content = bytes('dup', 200_000);
    put(files, 'a/photo.jpg', content);
    put(files, 'b/photo.jpg', content);
    put(files, 'c/photo.jpg', content);
    // Someone with shell access linked a/photo.jpg from outside the root: that inode is theirs too.
    const outside = path.join(path.dirname(root), `outside-${path.basename(root)}`);
    fs.mkdirSync(outside, { recursive: true });
    fs.linkSync(path.join(files, 'a/photo.jpg'), path.join(outside, 'photo.jpg'));
    const outsideIno = ino(path.join(outside, 'photo.jpg'));
    rescan(j);
    const rep = await dedupeJob(j.r.store, j.r.layout, j.r.config, { refresh: cliRefresher(j.r.store, j.r.layout) });
    try {
      expect(rep.filesLinked).toBe(1); // b and c share one inode; a is left alone
      expect(ino(path.join(files, 'b/photo.jpg'))).toBe(ino(path.join(files, 'c/photo.jpg')));
      for (const p of ['b/photo.jpg', 'c/photo.jpg']) expect(ino(path.join(files, p))).not.toBe(outsideIno);
      expect(fs.lstatSync(path.join(outside, 'photo.jpg')).nlink).toBe(2); // still only a/photo.jpg and itself
      expect(rep.skipped['linked-outside-root']).toMatchObject({ files: 1 });
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('device and share links inside the root still count as inside (the keeper keeps them)', async () => {
    j = jobsRoot();
    const { files, root } = j.r.layout;
    const content = bytes('dev', 200_000);
    put(files, 'x.bin', content);
    put(files, 'y.bin', content);
    fs.mkdirSync(path.join(root, 'devices/phone'), { recursive: true });
    fs.linkSync(path.join(files, 'y.bin'), path.join(root, 'devices/phone/y.bin'));
    rescan(j);
    const keeper = ino(path.join(files, 'y.bin'));
    const rep = await dedupeJob(j.r.store, j.r.layout, j.r.config, { refresh: cliRefresher(j.r.store, j.r.layout) });
    expect(rep.filesLinked).toBe(1);
    expect(ino(path.join(files, 'x.bin'))).toBe(keeper);
    expect(rep.skipped['linked-outside-root']).toBeUndefined();
  });
});
