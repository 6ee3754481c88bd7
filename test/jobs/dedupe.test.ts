import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dedupeJob, cliRefresher } from '../../server/src/jobs/run-jobs.js';
import { pickKeeperOrder } from '../../server/src/jobs/dedupe.js';
import { acquireJobLock } from '../../server/src/jobs/job-lock.js';
import type { BurrowConfig } from '../../server/src/config/schema.js';
import { OLD, bytes, inode, jobsRoot, link, put, rescan, shaList, tempLeftovers, type JobsRoot } from './fixture.js';

const roots: JobsRoot[] = [];
afterEach(() => {
  for (const j of roots.splice(0)) j.cleanup();
});

function setup(): JobsRoot {
  const j = jobsRoot();
  roots.push(j);
  return j;
}

function run(j: JobsRoot, extra: { dryRun?: boolean; config?: Partial<BurrowConfig['jobs']>; beforeReplace?: (dup: string, keeper: string) => void } = {}) {
  const config = { ...j.r.config, jobs: { ...j.r.config.jobs, ...extra.config } };
  return dedupeJob(j.r.store, j.r.layout, config, {
    refresh: cliRefresher(j.r.store, j.r.layout),
    ...(extra.dryRun ? { dryRun: true } : {}),
    ...(extra.beforeReplace ? { beforeReplace: extra.beforeReplace } : {}),
  });
}

describe('dedupe', () => {
  it('links duplicates inside files/ only; device and share links keep their content and stay linked to files/', async () => {
    const j = setup();
    const { files, root } = j.r.layout;
    const big = bytes('big', 300_000); // > 128 KiB: partial then full hash
    put(files, 'a/big.bin', big);
    put(files, 'b/big.bin', big);
    put(files, 'c/deep/big copy.bin', big);
    put(files, 'small/one.txt', 'same small text');
    put(files, 'small/two.txt', 'same small text');
    // A device holds b/big.bin: that inode must be the keeper so the device link stays in files/.
    link(path.join(files, 'b/big.bin'), path.join(root, 'devices/phone/b/big.bin'));
    // The same content outside files/ (a share folder, a device-only file) is never touched.
    put(root, 'shared/s1/copy.bin', big);
    put(root, 'devices/phone/only-here.bin', big);
    const outside = [path.join(root, 'shared/s1/copy.bin'), path.join(root, 'devices/phone/only-here.bin')];
    const outsideInodes = outside.map(inode);
    const before = shaList(root);
    rescan(j);

    const rep = await run(j);

    expect(rep.groups).toBe(2);
    expect(rep.filesLinked).toBe(3);
    expect(rep.bytesSaved).toBe(2 * 300_000 + 'same small text'.length);
    const keeper = inode(path.join(files, 'b/big.bin'));
    expect(inode(path.join(files, 'a/big.bin'))).toBe(keeper);
    expect(inode(path.join(files, 'c/deep/big copy.bin'))).toBe(keeper);
    expect(inode(path.join(root, 'devices/phone/b/big.bin'))).toBe(keeper);
    expect(inode(path.join(files, 'small/one.txt'))).toBe(inode(path.join(files, 'small/two.txt')));
    expect(outside.map(inode)).toEqual(outsideInodes);
    expect(shaList(root)).toEqual(before);
    expect(tempLeftovers(root)).toEqual([]);
    // The index follows: every files/ path of the group now has the keeper's inode and nlink.
    const row = j.r.store.entries.get('files', 'a/big.bin')!;
    expect(row.ino).toBe(keeper);
    expect(row.nlink).toBe(4);
    // History for the admin UI.
    const hist = j.r.store.dedupe.history(1)[0]!;
    expect(hist).toMatchObject({ state: 'done', files_linked: 3, bytes_saved: rep.bytesSaved });
  });

  it('a second run on an unchanged store reads nothing: no hashing, no comparing, no linking', async () => {
    const j = setup();
    const { files } = j.r.layout;
    const big = bytes('x', 200_000);
    for (const d of ['a', 'b', 'c']) put(files, `${d}/x.bin`, big);
    put(files, 'decoy/x.bin', bytes('y', 200_000)); // same size, different content
    rescan(j);
    const first = await run(j);
    expect(first.filesLinked).toBe(2);
    expect(first.hashed.files).toBeGreaterThanOrEqual(4);
    const second = await run(j);
    expect(second).toMatchObject({ filesLinked: 0, groups: 0, hashed: { files: 0 }, compared: { pairs: 0 } });
  });

  it('skips empty files, recent files, same-size decoys and metadata mismatches, and reports why', async () => {
    const j = setup();
    const { files } = j.r.layout;
    put(files, 'e1', '');
    put(files, 'e2', '');
    put(files, 'new/a.txt', 'fresh content', new Date());
    put(files, 'new/b.txt', 'fresh content', new Date());
    put(files, 'decoy/a', bytes('d1', 150_000));
    put(files, 'decoy/b', bytes('d2', 150_000));
    put(files, 'mode/a', 'mode content');
    put(files, 'mode/b', 'mode content');
    fs.chmodSync(path.join(files, 'mode/b'), 0o600);
    rescan(j);
    const rep = await run(j);
    expect(rep.filesLinked).toBe(0);
    expect(rep.emptyFilesIgnored).toBe(2);
    expect(rep.skipped['too-new']?.files).toBe(2);
    expect(rep.skipped['metadata-mismatch']).toEqual({ files: 1, bytes: 'mode content'.length });
    // Equal link counts and mtimes: the keeper is the lower inode number, which the filesystem picks.
    expect(rep.skippedExamples.find((e) => e.reason === 'metadata-mismatch')?.detail).toMatch(/mode (600 vs 644|644 vs 600)/);
    expect(inode(path.join(files, 'e1'))).not.toBe(inode(path.join(files, 'e2')));
    expect(inode(path.join(files, 'decoy/a'))).not.toBe(inode(path.join(files, 'decoy/b')));

    const allowed = await run(j, { config: { dedupeAllowMetadataMismatch: true } });
    expect(allowed.filesLinked).toBe(1);
    // The keeper's metadata survives (equal links and mtimes: the lower inode number is kept).
    expect(inode(path.join(files, 'mode/a'))).toBe(inode(path.join(files, 'mode/b')));
  });

  it('skips files whose xattrs differ (set with Python, as Node has no xattr API)', async () => {
    const j = setup();
    const { files } = j.r.layout;
    put(files, 'x/a', 'xattr content');
    put(files, 'x/b', 'xattr content');
    const set = spawnSync('/usr/bin/python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.burrow-test", b"1")', path.join(files, 'x/b')]);
    expect(set.status, String(set.stderr)).toBe(0);
    rescan(j);
    const rep = await run(j);
    expect(rep.filesLinked).toBe(0);
    expect(rep.skippedExamples).toEqual([expect.objectContaining({ reason: 'metadata-mismatch', detail: 'xattrs differ' })]);
  });

  it('a file changed after it was hashed (index not yet updated) is skipped, and keeps its new content', async () => {
    const j = setup();
    const { files } = j.r.layout;
    const big = bytes('z', 200_000);
    put(files, 'a.bin', big);
    put(files, 'b.bin', big);
    rescan(j);
    await run(j, { dryRun: true }); // hashes both into the index, links nothing
    expect(inode(path.join(files, 'a.bin'))).not.toBe(inode(path.join(files, 'b.bin')));
    const changed = Buffer.from(big);
    changed[100] = changed[100]! ^ 0xff;
    put(files, 'b.bin', changed, new Date('2024-02-02T00:00:00Z')); // same size, new mtime; no rescan
    const rep = await run(j);
    expect(rep.filesLinked).toBe(0);
    expect(rep.skipped['changed-since-hashing']?.files).toBe(1);
    expect(fs.readFileSync(path.join(files, 'b.bin')).equals(changed)).toBe(true);
  });

  it('a file written between the compare and the switch is not replaced, and no temp link is left', async () => {
    const j = setup();
    const { files, root } = j.r.layout;
    const big = bytes('w', 200_000);
    put(files, 'a.bin', big);
    put(files, 'b.bin', big);
    rescan(j);
    const racing = Buffer.concat([big, Buffer.from('appended by a writer')]);
    const rep = await run(j, {
      beforeReplace: (dup) => fs.writeFileSync(dup, racing),
    });
    expect(rep.filesLinked).toBe(0);
    expect(rep.skipped['changed-since-hashing']?.files).toBe(1);
    const dupPath = ['a.bin', 'b.bin'].map((p) => path.join(files, p)).find((p) => fs.statSync(p).size === racing.length)!;
    expect(fs.readFileSync(dupPath).equals(racing)).toBe(true);
    expect(tempLeftovers(root)).toEqual([]);
  });

  it('--dry-run changes nothing and reports what it would link', async () => {
    const j = setup();
    const { files } = j.r.layout;
    put(files, 'a', 'dup content');
    // b a second younger: with equal mtimes the keeper is the lower inode, which the filesystem
    // may hand to either file (a clean-clone run got b as keeper).
    put(files, 'b', 'dup content', new Date(OLD.getTime() + 1000));
    rescan(j);
    const before = [inode(path.join(files, 'a')), inode(path.join(files, 'b'))];
    const rep = await run(j, { dryRun: true });
    expect(rep).toMatchObject({ dryRun: true, filesLinked: 1, bytesSaved: 11, runId: null });
    expect(rep.linked).toEqual([{ path: 'b', keeper: 'a', size: 11 }]);
    expect([inode(path.join(files, 'a')), inode(path.join(files, 'b'))]).toEqual(before);
  });

  it('keeper: links outside files/ first, then most links, then oldest mtime, then lowest inode', () => {
    const mk = (ino: number, nlink: number, paths: number, mtime: number) => ({ ino, nlink, mtime_ms: mtime, paths: Array.from({ length: paths }, (_, i) => `p${ino}-${i}`) });
    const ids = (xs: Array<{ ino: number }>) => xs.map((x) => x.ino);
    expect(ids(pickKeeperOrder([mk(1, 3, 3, 10), mk(2, 2, 1, 50)]))).toEqual([2, 1]); // 2 has a device link
    expect(ids(pickKeeperOrder([mk(1, 1, 1, 10), mk(2, 2, 2, 50)]))).toEqual([2, 1]); // more links
    expect(ids(pickKeeperOrder([mk(5, 1, 1, 20), mk(3, 1, 1, 10)]))).toEqual([3, 5]); // older
    expect(ids(pickKeeperOrder([mk(9, 1, 1, 10), mk(4, 1, 1, 10)]))).toEqual([4, 9]); // lower inode
  });

  it('keeps the inode with the most links and the oldest mtime on disk', async () => {
    const j = setup();
    const { files } = j.r.layout;
    const c = bytes('k', 140_000);
    put(files, 'young.bin', c, new Date('2024-05-05T00:00:00Z'));
    put(files, 'old.bin', c, new Date('2020-01-01T00:00:00Z'));
    put(files, 'pair/one.bin', c, new Date('2024-06-06T00:00:00Z'));
    link(path.join(files, 'pair/one.bin'), path.join(files, 'pair/two.bin'));
    rescan(j);
    const keeper = inode(path.join(files, 'pair/one.bin'));
    const rep = await run(j);
    expect(rep.filesLinked).toBe(2);
    expect(inode(path.join(files, 'young.bin'))).toBe(keeper);
    expect(inode(path.join(files, 'old.bin'))).toBe(keeper);
    // The keeper's mtime survives on every path.
    expect(fs.statSync(path.join(files, 'old.bin')).mtime.toISOString()).toBe('2024-06-06T00:00:00.000Z');
  });

  it('never runs twice at once: a held job lock refuses, a lock left by a dead process is taken over', async () => {
    const j = setup();
    const lock = acquireJobLock(j.r.store, 'dedupe');
    await expect(run(j)).rejects.toMatchObject({ code: 'JOB_RUNNING' });
    lock.release();
    // A lock row whose pid is gone (a kill -9) does not block.
    j.r.store.db.prepare("INSERT INTO job_locks (name, pid, host, token, started_at) VALUES ('dedupe', ?, ?, 'dead', 1)").run(2 ** 22 + 12345, (await import('node:os')).hostname());
    await expect(run(j)).resolves.toMatchObject({ filesLinked: 0 });
  });
});
