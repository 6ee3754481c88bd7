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

/**
 * Install SIGINT/SIGTERM handlers now, before a long-running command prints its ready line: a
 * supervisor (or a test) that signals as soon as it reads that line must find them in place,
 * or the default action kills the process half-way. `stopped` resolves with the first signal.
 */
export function installStopSignals(): { stopped: Promise<string>; dispose(): void } {
  let resolveStop!: (sig: string) => void;
  const stopped = new Promise<string>((r) => (resolveStop = r));
  const on = (sig: string) => resolveStop(sig);
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return { stopped, dispose: () => (process.off('SIGINT', on), process.off('SIGTERM', on)) };
}
