import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BURROW_BIN = path.join(REPO, 'bin/burrow.js');

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the real `burrow` CLI (the compiled dist/, as users run it) and collect its output. */
export function burrow(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; uid?: number; gid?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BURROW_BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, BURROW_LOG_LEVEL: 'warn', ...opts.env },
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    uid: opts.uid,
    gid: opts.gid,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Start a long-running `burrow` process (e.g. start); resolves once `readyText` appears on stdout. */
export function burrowBackground(args: string[], readyText: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, [BURROW_BIN, ...args], { env: { ...process.env, BURROW_LOG_LEVEL: 'warn', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`burrow ${args.join(' ')} not ready after ${opts.timeoutMs ?? 20000} ms\nstdout: ${out}\nstderr: ${err}`)), opts.timeoutMs ?? 20_000);
    const check = () => {
      if (out.includes(readyText)) {
        clearTimeout(timer);
        resolve({ child, stdout: () => out, stderr: () => err });
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes(readyText)) reject(new Error(`burrow ${args.join(' ')} exited ${code} before ready\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
