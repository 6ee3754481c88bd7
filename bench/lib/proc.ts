import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Wall and CPU (user + system, all threads and children) milliseconds of one measured run. */
export interface Timing {
  ms: number;
  cpuMs: number;
}

/** Time an in-process function: wall clock and this process's CPU time (worker threads included). */
export async function timeInProcess(fn: () => unknown | Promise<unknown>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

let timeFileSeq = 0;
/**
 * Run shell commands at once under GNU time and return the wall time until the last exits and
 * the CPU time they used in total. CPU time matters on a shared machine: wall time there also
 * measures everyone else's load.
 */
export async function timeShell(cmds: string[], cwd?: string): Promise<Timing> {
  const outs = cmds.map(() => path.join(os.tmpdir(), `bench-time-${process.pid}-${timeFileSeq++}.txt`));
  const t0 = performance.now();
  await Promise.all(
    cmds.map(
      (cmd, i) =>
        new Promise<void>((resolve, reject) => {
          const p = spawn('/usr/bin/time', ['-f', '%U %S', '-o', outs[i]!, '/bin/sh', '-c', cmd], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
          p.on('error', reject);
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench command failed (${code}): ${cmd}`))));
        }),
    ),
  );
  const ms = performance.now() - t0;
  let cpuMs = 0;
  for (const f of outs) {
    const [u, s] = fs.readFileSync(f, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    cpuMs += ((u ?? 0) + (s ?? 0)) * 1000;
    fs.rmSync(f, { force: true });
  }
  return { ms, cpuMs };
}

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
