import path from 'node:path';
import { pino, type Logger } from 'pino';

export interface LogTargets {
  /** Append the JSON log to this file (a long-running NAS: <root>/.burrow/logs/burrow.log). */
  file?: string;
  /** Also write it to stderr (`--verbose`). Without a file, stderr is where it goes. */
  stderr?: boolean;
}

/** Where the NAS writes its JSON log under a root. */
export function logFileOf(logsDir: string): string {
  return path.join(logsDir, 'burrow.log');
}

/**
 * pino, never to stdout: stdout is for the human lines a command prints and for `--json` output
 * that scripts parse. With a file, the JSON log goes there (and to stderr only when asked), so a
 * terminal running the NAS shows people's lines, not JSON. Secrets never go through here:
 * callers log folder ids, never secret strings.
 */
export function createLogger(level: string = process.env.BURROW_LOG_LEVEL ?? 'info', targets: LogTargets = {}): Logger {
  const stderr = () => survive(pino.destination({ fd: 2, sync: false }), 'stderr');
  if (!targets.file) return pino({ level, base: { pid: process.pid } }, stderr());
  const file = pino.destination({ dest: targets.file, mkdir: true, append: true, sync: false, maxLength: LOG_BACKLOG_BYTES });
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: survive(file, targets.file) }];
  if (targets.stderr) streams.push({ level: level as pino.Level, stream: stderr() });
  return pino({ level, base: { pid: process.pid } }, pino.multistream(streams));
}

/** What a log destination may hold in memory while it cannot write (a full disk); more is dropped. */
const LOG_BACKLOG_BYTES = 16 * 1024 * 1024;

/**
 * A log destination that cannot write (a full disk) must not take the NAS down: sonic-boom emits
 * 'error', which with no listener threw and ended the process (soak seed 505, on a full disk).
 * The lines wait in memory and go out with the next write once there is room; it is said once.
 */
function survive<T extends ReturnType<typeof pino.destination>>(dest: T, what: string): T {
  let said = false;
  dest.on('error', (err: Error) => {
    if (said || what === 'stderr') return;
    said = true;
    process.stderr.write(`burrow: cannot write the log (${what}): ${err.message}; lines wait in memory (up to ${LOG_BACKLOG_BYTES / 1048576} MiB) until there is room\n`);
  });
  dest.on('write', () => (said = false));
  return dest;
}

export type { Logger };
