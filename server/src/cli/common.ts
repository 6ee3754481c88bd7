import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { lazyCjs } from '../util/lazy-cjs.js';
import { describeError, BurrowError } from '../errors.js';
import { repoPath } from '../util/repo-path.js';

/** Every command takes --root (or BURROW_ROOT); this adds the option consistently. */
export function withRoot(cmd: Command): Command {
  return cmd.addOption(new Option('--root <dir>', 'the NAS root folder (required; or set BURROW_ROOT)').env('BURROW_ROOT'));
}

/**
 * The NAS root from --root or BURROW_ROOT. There is no default: a command run from the wrong
 * folder must not quietly create or change a store there (only `npm run demo` has one, ./demo-nas).
 */
export function rootFrom(opts: { root?: string }): string {
  const dir = opts.root || process.env.BURROW_ROOT;
  if (!dir) throw new BurrowError('NO_ROOT', 'no root: pass --root <dir> or set BURROW_ROOT', 'The root is the NAS folder "burrow init --root <dir>" made; "npm run demo" makes one in ./demo-nas.');
  return path.resolve(dir);
}

/** The version in Burrow's package.json. */
export function burrowVersion(): string {
  return (JSON.parse(fs.readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;
}

/** Print one JSON document (--json) or human lines. */
export function report(json: boolean | undefined, data: unknown, human: () => string): void {
  if (json) process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  else process.stdout.write(human() + '\n');
}

/**
 * Run a command body with Burrow's error contract: a BurrowError prints its message and what to
 * do next (or a JSON error with --json) and exits 1; anything else is a bug and exits 70.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const json = process.argv.includes('--json');
      if (json) process.stdout.write(JSON.stringify({ error: err instanceof BurrowError ? err.toJSON() : { code: 'INTERNAL', message: String((err as Error)?.message ?? err) } }) + '\n');
      process.stderr.write(`burrow: ${describeError(err)}\n`);
      if (!(err instanceof BurrowError) && process.env.BURROW_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
      process.exitCode = err instanceof BurrowError ? 1 : 70;
    }
  };
}


const cliProgress = lazyCjs<typeof import('cli-progress')>('cli-progress');

/** A progress bar on stderr when it is a TTY and --json is off; otherwise a no-op. */
export function progressBar(enabled: boolean, format: string): { start(total: number, payload?: object): void; update(v: number, payload?: object): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { start() {}, update() {}, stop() {} };
  const bar = new (cliProgress().SingleBar)({ format, stream: process.stderr, hideCursor: true, etaBuffer: 50, fps: 5 }, cliProgress().Presets.shades_classic);
  return { start: (total, payload) => bar.start(total, 0, payload), update: (v, payload) => bar.update(v, payload), stop: () => bar.stop() };
}

/** How long a stop (closing folders, saving the index) may take before the process exits anyway. */
const STOP_DEADLINE_MS = 30_000;
/** How long a stopped process may be kept alive by something left open before it exits anyway. */
const LINGER_MS = 2_000;

/**
 * Install SIGINT/SIGTERM handlers now, before a long-running command prints its ready line: a
 * supervisor (or a test) that signals as soon as it reads that line must find them in place,
 * or the default action kills the process half-way. `stopped` resolves with the first signal.
 *
 * A service that ignores SIGTERM makes systemd wait 90 s and a test hang, so the stop is bounded:
 * a second signal exits at once, a stop still running after STOP_DEADLINE_MS exits, and a process
 * still alive LINGER_MS after `dispose()` (something left open) exits. Each says on stderr what was
 * still pending. Exiting there is no worse than kill -9, which every step is built to survive.
 */
export function installStopSignals(): { stopped: Promise<string>; dispose(): void } {
  let resolveStop!: (sig: string) => void;
  const stopped = new Promise<string>((r) => (resolveStop = r));
  let first: string | null = null;
  const pending = (): string => process.getActiveResourcesInfo().join(', ') || 'nothing';
  const on = (sig: string) => {
    if (first) {
      process.stderr.write(`${sig} again: exiting now (pending: ${pending()})\n`);
      process.exit(1);
    }
    first = sig;
    resolveStop(sig);
    setTimeout(() => {
      process.stderr.write(`still stopping ${STOP_DEADLINE_MS / 1000} s after ${sig}: exiting (pending: ${pending()})\n`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    stopped,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      setTimeout(() => {
        process.stderr.write(`stopped, but still held open after ${LINGER_MS / 1000} s by: ${pending()}; exiting\n`);
        process.exit(0);
      }, LINGER_MS).unref();
    },
  };
}
