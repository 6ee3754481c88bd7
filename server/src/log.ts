import { pino, type Logger } from 'pino';

/**
 * pino to stderr, so stdout stays clean for `--json` output that scripts parse.
 * Secrets never go through here: callers log folder ids, never secret strings.
 */
export function createLogger(level: string = process.env.BURROW_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

export type { Logger };
