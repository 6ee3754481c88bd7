import crypto from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { RootLayout } from './layout.js';
import { writeSecretFile } from './state-modes.js';
import { BurrowError } from '../errors.js';

const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, len: number, opts: crypto.ScryptOptions) => Promise<Buffer>;

/** scrypt cost (OWASP's minimum for scrypt: N=2^17, r=8, p=1), ~0.2 s and 128 MiB per check. */
const PARAMS = { N: 1 << 17, r: 8, p: 1 };
const KEY_LEN = 32;
export const MIN_PASSWORD_LENGTH = 8;

/** One line: scrypt$N$r$p$salt$hash (base64url), so the cost can rise later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { ...PARAMS, maxmem: 256 * 1024 * 1024 });
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.trim().split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64url');
  const got = await scrypt(password, Buffer.from(salt, 'base64url'), want.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 });
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

export function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new BurrowError('WEAK_PASSWORD', `The admin password needs at least ${MIN_PASSWORD_LENGTH} characters.`, 'Choose a longer one.');
}

export async function setAdminPassword(l: RootLayout, password: string): Promise<void> {
  checkNewPassword(password);
  writeSecretFile(l.adminPassword, `${await hashPassword(password)}\n`);
}

export function readAdminPasswordHash(l: RootLayout): string | undefined {
  try {
    const t = fs.readFileSync(l.adminPassword, 'utf8').trim();
    return t || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Read from disk at every check, so `burrow password` takes effect on a running NAS at once. */
export async function checkAdminPassword(l: RootLayout, password: string): Promise<'ok' | 'wrong' | 'unset'> {
  const stored = readAdminPasswordHash(l);
  if (!stored) return 'unset';
  return (await verifyPassword(password, stored)) ? 'ok' : 'wrong';
}
