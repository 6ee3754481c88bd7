import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { RootLayout } from '../root/layout.js';
import { writeSecretFile } from '../root/state-modes.js';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** SHA-256 of the certificate (DER), as AA:BB:… — what devices and `burrow status` compare. */
  fingerprint: string;
}

const certFile = (l: RootLayout) => path.join(l.tls, 'cert.pem');
const keyFile = (l: RootLayout) => path.join(l.tls, 'key.pem');

/** The fingerprint of a PEM certificate, or undefined when there is none. */
export function certificateFingerprint(pem: string): string {
  return new crypto.X509Certificate(pem).fingerprint256;
}

/** The NAS's certificate when one was made (for `burrow status` and the CLI's pinning). */
export function readTls(l: RootLayout): TlsMaterial | undefined {
  try {
    const cert = fs.readFileSync(certFile(l), 'utf8');
    const key = fs.readFileSync(keyFile(l), 'utf8');
    return { cert, key, fingerprint: certificateFingerprint(cert) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The self-signed certificate, made the first time TLS is needed (EC P-256, ten years) for the
 * bind address, this machine's name and addresses, loopback, and http.allowedHosts. Kept across
 * restarts so a pinned fingerprint stays valid; delete .burrow/tls/ to make a new one.
 */
export async function ensureTls(l: RootLayout, names: string[]): Promise<TlsMaterial> {
  const have = readTls(l);
  if (have) return have;
  const dns = new Set<string>(['localhost', os.hostname()]);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const n of names) (net.isIP(n) ? ips : dns).add(n);
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) ips.add(a.address.split('%')[0]!);
  for (const any of ['0.0.0.0', '::']) ips.delete(any);
  const now = new Date();
  // selfsigned (and the X.509 libraries under it) is needed once per NAS: not on every command.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: `Burrow NAS ${os.hostname()}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...[...dns].map((value) => ({ type: 2 as const, value })), ...[...ips].map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  fs.mkdirSync(l.tls, { recursive: true, mode: 0o700 });
  writeSecretFile(keyFile(l), pems.private);
  writeSecretFile(certFile(l), pems.cert);
  return { key: pems.private, cert: pems.cert, fingerprint: certificateFingerprint(pems.cert) };
}

/** 127.0.0.0/8, ::1 and "localhost": the addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}
