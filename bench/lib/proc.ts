import fs from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Wall time of a shell command (stdout/stderr discarded unless redirected in the command). */
export function shellMs(cmd: string, cwd?: string): number {
  const t0 = performance.now();
  const r = spawnSync('/bin/sh', ['-c', cmd], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench command failed (${r.status}): ${cmd}\n${r.stderr.toString().slice(0, 2000)}`);
  return ms;
}

/** Wall time of several shell commands run at once, until the last one exits. */
export async function parallelShellMs(cmds: string[], cwd?: string): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    cmds.map(
      (cmd) =>
        new Promise<void>((resolve, reject) => {
          const p = spawn('/bin/sh', ['-c', cmd], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
          p.on('error', reject);
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench command failed (${code}): ${cmd}`))));
        }),
    ),
  );
  return performance.now() - t0;
}

/** A kB field of /proc/<pid>/status (VmHWM = peak RSS, VmRSS = current), in bytes. */
export function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** inotify instances and watches a process holds, from /proc/<pid>/fd and fdinfo. */
export function inotifyUsage(pid: number): { instances: number; watches: number } {
  let instances = 0;
  let watches = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:inotify') continue;
    instances++;
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    for (const line of info.split('\n')) if (line.startsWith('inotify wd:')) watches++;
  }
  return { instances, watches };
}

/** Resolve with the first stdout line of `child` that matches `re`, or reject after `timeoutMs`. */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = re.exec(line);
        if (m) {
          cleanup();
          resolve(m);
          return;
        }
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what}: process exited (${code}) first`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}

/** SIGTERM the child and wait for it to exit (SIGKILL after `graceMs`). */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
