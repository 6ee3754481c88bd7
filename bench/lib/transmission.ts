import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { NetnsBridge } from './netns-bridge.js';

/**
 * Debian's transmission-cli as a stock BitTorrent client for the tests and the benchmark:
 * its own config dir with DHT, LPD, PEX, uTP and port mapping off, bound to 127.0.0.1, so it
 * talks to nothing but the sources in the .torrent (web seed, tracker, the peers it lists). It never exits by itself; `-f` runs a script
 * when the download completes, which touches a marker file we wait for.
 */
export interface Download {
  complete: boolean;
  ms: number;
  out: string;
  log: string;
}

/**
 * With `bridge`, the client runs inside that network namespace (to reach the NAS as a peer).
 * `stopWhen`, asked about twice a second, ends the wait early: a test that expects the NAS to
 * refuse or stop something waits for that, not for a fixed time that a slow machine overruns.
 */
export async function transmissionDownload(torrent: string, dir: string, timeoutMs: number, bridge?: NetnsBridge, stopWhen?: () => Promise<boolean>): Promise<Download> {
  fs.rmSync(dir, { recursive: true, force: true });
  const cfg = path.join(dir, 'cfg');
  const out = path.join(dir, 'out');
  fs.mkdirSync(cfg, { recursive: true });
  fs.mkdirSync(out);
  fs.writeFileSync(
    path.join(cfg, 'settings.json'),
    JSON.stringify({
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'bind-address-ipv4': bridge ? bridge.ip : '127.0.0.1',
      'bind-address-ipv6': '::1',
      // A tracker refuses port 0 in an announce; the client only dials out here, so any port does.
      'peer-port-random-on-start': true,
      'peer-port-random-low': 20000,
      'peer-port-random-high': 60000,
      'message-level': 2,
    }),
  );
  const marker = path.join(dir, 'DONE');
  const script = path.join(dir, 'done.sh');
  fs.writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
  const started = Date.now();
  const args = ['-g', cfg, '-w', out, '-f', script, torrent];
  const [cmd, argv] = bridge ? bridge.wrap('transmission-cli', args) : ['transmission-cli', args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  let complete = false;
  let asked = started;
  while (Date.now() - started < timeoutMs) {
    if (fs.existsSync(marker)) {
      complete = true;
      break;
    }
    if (child.exitCode !== null) break;
    if (stopWhen && Date.now() - asked >= 500) {
      asked = Date.now();
      if (await stopWhen()) break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = Date.now() - started;
  const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  child.kill('SIGKILL');
  await exited;
  return { complete, ms, out, log: log.replace(/\r/g, '\n').split('\n').filter((l) => !l.startsWith('Progress')).slice(-20).join('\n') };
}

/** Bytes of every regular file under dir (relative path → size). */
export function sizesUnder(dir: string): Record<string, number> {
  const r: Record<string, number> = {};
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), p);
      else if (e.isFile()) r[p] = fs.statSync(path.join(d, e.name)).size;
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return r;
}
