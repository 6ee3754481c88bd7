import { BurrowError } from '../errors.js';

/**
 * A secret from the user: on a terminal, typed without echo; otherwise the first line of
 * standard input (so scripts can pipe it: `printf '%s\n' "$pw" | burrow password`).
 */
export async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new BurrowError('CANCELLED', 'Cancelled.'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** A new password, typed twice on a terminal (once from a pipe). */
export async function readNewPassword(what: string): Promise<string> {
  const first = await readSecret(`${what}: `);
  if (!process.stdin.isTTY) return first;
  const again = await readSecret('Again, to be sure: ');
  if (again !== first) throw new BurrowError('PASSWORD_MISMATCH', 'The two passwords differ; nothing was changed.', 'Run the command again.');
  return first;
}
