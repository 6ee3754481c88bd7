import fs from 'node:fs';
import { errors } from '../errors.js';
import { processAlive } from '../util/process-alive.js';

/**
 * One NAS process per root. The lock file holds the owner's pid; a lock whose pid is gone
 * (the owner was killed -9) is taken over, so a crash never needs manual clean-up.
 */
export interface RootLock {
  release(): void;
}

/** `lockedError` makes the refusal (default: the NAS's ROOT_LOCKED); the device agent names itself. */
export function acquireRootLock(lockFile: string, root: string, lockedError: (pid: number) => Error = (pid) => errors.locked(root, pid)): RootLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockFile, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        // A process that opens and closes roots (the tests, a long-running tool) would otherwise
        // pile up one 'exit' listener per lock (Node's MaxListenersExceededWarning in CI).
        process.off('exit', release);
        try {
          if (readPid(lockFile) === process.pid) fs.unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(lockFile);
      if (pid !== null && pid !== process.pid && processAlive(pid)) throw lockedError(pid);
      fs.rmSync(lockFile, { force: true }); // stale: its owner died
    }
  }
  throw lockedError(readPid(lockFile) ?? -1);
}

function readPid(file: string): number | null {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

