import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BURROW_BIN, REPO } from '../helpers/cli.js';

/** Let a NAS root pick free HTTP and sync ports, so its tests never meet another NAS on 7420/7421. */
export function freePorts(root: string): void {
  const file = path.join(root, '.burrow', 'config.yaml');
  const text = fs.readFileSync(file, 'utf8').replace(/^(\s+)port: 7420$/m, '$1port: 0').replace(/^(\s+)port: 7421$/m, '$1port: 0');
  fs.writeFileSync(file, text);
}

/** Lines that are a JSON object: what pino writes. */
export function jsonLines(text: string): string[] {
  return text.split('\n').filter((l) => {
    if (!l.trim().startsWith('{')) return false;
    try {
      return typeof JSON.parse(l) === 'object';
    } catch {
      return false;
    }
  });
}

export interface Running {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `node <script> args` and resolve once `ready` appears on stdout (or reject with its output). */
export function run(script: string, args: string[], ready: string | RegExp, env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<Running> {
  const child = spawn(process.execPath, [script, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const seen = () => (typeof ready === 'string' ? out.includes(ready) : ready.test(out));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(script)} ${args.join(' ')}: not ready after ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
    child.stdout!.on('data', () => {
      if (seen()) {
        clearTimeout(timer);
        resolve({ child, out: () => out, err: () => err, exited });
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      if (!seen()) reject(new Error(`${path.basename(script)} ${args.join(' ')} exited ${JSON.stringify(e)} before ready\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

export const CLI = BURROW_BIN;

/** Stop a process this test started, by its own handle, and wait for it to go. */
export async function stop(p: Running | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  await p.exited;
}
