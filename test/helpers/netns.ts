import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';

/**
 * Can this test create network namespaces (root, and `ip netns` working)? Tests that need two
 * "hosts" call this once and skip LOUDLY, naming what is not tested, when it says no.
 */
export function netnsWorks(whatIsSkipped: string): boolean {
  let ok = false;
  if (process.getuid?.() === 0) {
    const probe = `burrow-probe-${crypto.randomBytes(3).toString('hex')}`;
    try {
      execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    const line = `!!! SKIPPING ${whatIsSkipped}: \`ip netns\` is not usable here (needs root). !!!`;
    const bar = '!'.repeat(line.length);
    console.warn(`\n${bar}\n${line}\n${bar}\n`);
  }
  return ok;
}
