/** Is a process with this pid alive? (EPERM means it exists but belongs to someone else.) Used by the lock files. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
