import fs from 'node:fs';
import type { Logger } from 'pino';
import type { RootLayout } from '../root/layout.js';
import type { BurrowConfig } from '../config/schema.js';
import { checkHttpHost } from '../config/load.js';
import { BurrowError } from '../errors.js';
import { writeSecretFile } from '../root/state-modes.js';
import { ensureTls, isLoopback, type TlsMaterial } from './tls.js';

/**
 * Whether the NAS serves HTTPS, and with what. Off loopback, the password and the token must not
 * cross the network in clear: TLS is on (http.tls auto), or the owner opted out in the config
 * (http.allowPlainHttpOnNetwork), which is logged loudly at every start.
 */
export async function decideTls(l: RootLayout, http: BurrowConfig['http'], host: string, log: Logger): Promise<TlsMaterial | undefined> {
  const bad = checkHttpHost(host);
  if (bad) throw new BurrowError('BAD_CONFIG', `http.host (or --host): ${bad}.`, 'Use 127.0.0.1 for this machine only, or an address of this machine (with TLS).');
  const loop = isLoopback(host);
  const useTls = http.tls === 'on' || (http.tls === 'auto' && !loop);
  if (useTls) return ensureTls(l, [host, ...http.allowedHosts]);
  if (loop) return undefined;
  if (!http.allowPlainHttpOnNetwork) {
    throw new BurrowError(
      'PLAIN_HTTP_ON_NETWORK',
      `Refusing to serve plain HTTP on ${host}: with http.tls set to "off", the admin password and the API token would cross the network readable by anyone on it.`,
      'Set http.tls to auto (a self-signed certificate; "burrow status" prints its fingerprint), or bind 127.0.0.1 behind a TLS reverse proxy or VPN. To accept the risk, set http.allowPlainHttpOnNetwork: true.',
    );
  }
  const warning = `INSECURE: serving plain HTTP on ${host} (http.allowPlainHttpOnNetwork is true). Anyone on this network can read the admin password, the API token and every answer.`;
  log.warn({ host }, warning);
  process.stderr.write(`\n!!! burrow: ${warning}\n\n`);
  return undefined;
}

/** What the running NAS tells the CLI (.burrow/http.json): where to reach it and which certificate to expect. */
export interface HttpRuntime {
  pid: number;
  host: string;
  port: number;
  tls: boolean;
  fingerprint?: string | undefined;
}

export function writeHttpRuntime(l: RootLayout, r: HttpRuntime): void {
  writeSecretFile(l.httpRuntime, JSON.stringify(r) + '\n');
}

export function removeHttpRuntime(l: RootLayout): void {
  try {
    const r = JSON.parse(fs.readFileSync(l.httpRuntime, 'utf8')) as HttpRuntime;
    if (r.pid === process.pid) fs.rmSync(l.httpRuntime, { force: true });
  } catch {
    /* none, or not ours */
  }
}

export function readHttpRuntime(l: RootLayout): HttpRuntime | undefined {
  try {
    return JSON.parse(fs.readFileSync(l.httpRuntime, 'utf8')) as HttpRuntime;
  } catch {
    return undefined;
  }
}
