import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A small tmpfs of its own, so a test (or the soak) can fill a disk without touching the machine's:
 * `dir` is the mount point inside a fresh temp folder. Mounting needs root; where it cannot be
 * done, `mounted` is false and the caller skips. `cleanup` unmounts and removes everything.
 */
export function smallDisk(prefix: string, sizeMb: number): { dir: string; mounted: boolean; cleanup(): void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dir = path.join(base, 'disk');
  fs.mkdirSync(dir);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]).status === 0;
  return {
    dir,
    mounted,
    cleanup: () => {
      if (mounted) spawnSync('umount', [dir]);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * Fill the file system that holds `file` to the last byte by appending to it: 1 MiB writes, then
 * 4 KiB, then single bytes, each until ENOSPC. Any other error is thrown.
 */
export function fillToLastByte(file: string): void {
  const fd = fs.openSync(file, 'a');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size, 7);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
