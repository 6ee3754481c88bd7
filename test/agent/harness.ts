import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A NAS and device agents as real processes on 127.0.0.1, each in its own temp root, for the
 * end-to-end test and bench:e2e. The NAS's sync engine listens on a fixed free port (join
 * strings carry it); DHT and LAN discovery are off, so nothing leaves loopback.
 */
function findRepo(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(d, 'package.json')) || !fs.existsSync(path.join(d, 'bin', 'burrow.js'))) {
    const up = path.dirname(d);
    if (up === d) throw new Error('repository root not found');
    d = up;
  }
  return d;
}
export const REPO = findRepo();
const BIN = path.join(REPO, 'bin', 'burrow.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
  });
}

export function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, BURROW_LOG_LEVEL: 'warn' }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Proc {
  child: ChildProcess;
  out(): string;
  err(): string;
}

function background(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, netns?: string): Promise<Proc & { match: RegExpMatchArray }> {
  // `ip netns exec` execs node in place, so the child's pid is node's and signals reach it.
  // A process that does not stop on SIGTERM is asked (SIGUSR2) for Node's diagnostic report, so
  // stopProc can say what kept it alive instead of only timing out.
  const node = [process.execPath, '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${os.tmpdir()}`, BIN, ...args];
  const [cmd, argv]: [string, string[]] = netns ? ['ip', ['netns', 'exec', netns, ...node]] : [process.execPath, node.slice(1)];
  const child = spawn(cmd, argv, { env: { ...process.env, BURROW_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    // Slow only on an overloaded machine; the soak raises it (BURROW_START_TIMEOUT_MS). A process
    // that missed it is killed, so a retry does not find it holding the root's lock.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`burrow ${args[0]} not ready\nstdout: ${out}\nstderr: ${err}`));
    }, Number(process.env.BURROW_START_TIMEOUT_MS ?? 90_000));
    const check = () => {
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve({ child, out: () => out, err: () => err, match: m });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`burrow ${args[0]} exited ${code}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

/**
 * Signal a process and wait for it to exit. One that is still running `graceMs` after a SIGTERM
 * is a bug: its diagnostic report (JS stack, libuv handles) is taken, it is killed, and the
 * promise rejects with what kept it alive.
 */
export function stopProc(p: Proc | null | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const pid = p.child.pid;
    const timer =
      signal === 'SIGKILL'
        ? null
        : setTimeout(() => {
            p.child.kill('SIGUSR2');
            setTimeout(() => {
              const report = fs
                .readdirSync(os.tmpdir())
                .filter((f) => f.startsWith('report.') && f.includes(`.${pid}.`))
                .map((f) => path.join(os.tmpdir(), f));
              const text = report.map((f) => summariseReport(f)).join('\n') || '(no diagnostic report was written)';
              p.child.kill('SIGKILL');
              reject(new Error(`pid ${pid} did not exit within ${graceMs} ms of ${signal}\n${text}\nstderr: ${p.err().slice(-4000)}`));
            }, 3000);
          }, graceMs);
    p.child.once('exit', () => {
      if (timer) clearTimeout(timer);
      resolve();
    });
    p.child.kill(signal);
  });
}

/** The JS stack and the live libuv handles of a Node diagnostic report. */
function summariseReport(file: string): string {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as { javascriptStack?: { stack?: string[] }; libuv?: { type: string; is_active: boolean; is_referenced?: boolean; localEndpoint?: unknown; remoteEndpoint?: unknown; details?: string }[] };
    const handles = (r.libuv ?? []).filter((h) => h.is_active && h.is_referenced !== false).map((h) => `  ${h.type} ${JSON.stringify({ local: h.localEndpoint, remote: h.remoteEndpoint, details: h.details })}`);
    return `report ${file}\nstack:\n  ${(r.javascriptStack?.stack ?? []).join('\n  ')}\nactive handles:\n${handles.join('\n')}`;
  } catch (err) {
    return `report ${file} unreadable: ${(err as Error).message}`;
  }
}

export interface NasHandle extends Proc {
  root: string;
  url: string;
  syncPort: number;
}

/**
 * `burrow init` a NAS root with loopback-only sync on a free port, then `burrow start` it.
 * With `netns`, the NAS runs in that network namespace, listens on every address there, and
 * puts `publicHost` into join strings.
 */
export async function startNas(root: string, opts: { syncPort?: number; netns?: string; publicHost?: string } = {}): Promise<NasHandle> {
  const port = opts.syncPort ?? (await freePort());
  if (!fs.existsSync(path.join(root, '.burrow', 'config.yaml'))) {
    const r = cli(['init', '--root', root]);
    if (r.status !== 0) throw new Error(`init failed: ${r.stderr}`);
    const cfgFile = path.join(root, '.burrow', 'config.yaml');
    const cfg = fs
      .readFileSync(cfgFile, 'utf8')
      .replace(/^( {2}host:) 0\.0\.0\.0$/m, opts.netns ? '$1 0.0.0.0' : '$1 127.0.0.1')
      .replace(/^( {2}publicAddresses:) \[\]$/m, opts.publicHost ? `$1 ["${opts.publicHost}:${port}"]` : '$1 []')
      .replace(/^( {2}port:) 7421$/m, `$1 ${port}`)
      .replace(/^( {2}dht:) true$/m, '$1 false')
      .replace(/^( {2}lan:) true$/m, '$1 false')
      .replace(/^( {2}debounceMs:) 100$/m, '$1 50');
    fs.writeFileSync(cfgFile, cfg);
  }
  const p = await background(['start', '--root', root, '--port', '0', '--host', '127.0.0.1'], /admin UI and API: (http:\/\/\S+?)\/?\s/, {}, opts.netns);
  return { ...p, root, url: p.match[1]!, syncPort: port };
}

export function addDevice(nasRoot: string, name: string): string {
  const r = cli(['device', 'add', name, '--root', nasRoot, '--json']);
  if (r.status !== 0) throw new Error(`device add failed: ${r.stdout}${r.stderr}`);
  return (JSON.parse(r.stdout) as { join: string }).join;
}

export interface AgentHandle extends Proc {
  root: string;
  url: string;
  token(): string;
}

/** Start `burrow agent` (joining on the first start); resolves when it prints its URL. With `netns`, it runs in that network namespace. */
export async function startAgent(root: string, join?: string, port = 0, netns?: string): Promise<AgentHandle> {
  const args = ['agent', '--root', root, '--port', String(port), '--no-dht', '--no-lan', '--sync-host', '127.0.0.1'];
  if (join) args.push('--join', join);
  const p = await background(args, /catalogue: (http:\/\/\S+)\n/, {}, netns);
  return { ...p, root, url: p.match[1]!, token: () => fs.readFileSync(path.join(root, '.burrow-agent', 'token'), 'utf8').trim() };
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 45_000, everyMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function tempRoot(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function sameBytes(a: string, b: string): boolean {
  try {
    return fs.readFileSync(a).equals(fs.readFileSync(b));
  } catch {
    return false;
  }
}
