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
  const stderr = () => pino.destination({ fd: 2, sync: false });
  if (!targets.file) return pino({ level, base: { pid: process.pid } }, stderr());
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: pino.destination({ dest: targets.file, mkdir: true, append: true, sync: false }) }];
  if (targets.stderr) streams.push({ level: level as pino.Level, stream: stderr() });
  return pino({ level, base: { pid: process.pid } }, pino.multistream(streams));
}

export type { Logger };
