import crypto from 'node:crypto';
import type { Db } from '../store/db.js';
import { WebCredentialsRepo, type WebCredentialRow } from '../store/web-credentials-repo.js';

/**
 * Browser devices (a phone with nothing installed, issue 18). The owner makes a one-time join
 * link (`burrow device add <name> --web`); opening it exchanges its token for a device
 * credential that the browser keeps in an HttpOnly cookie. Tokens are 32 random bytes; the
 * database holds only their SHA-256, so a copy of burrow.db cannot sign anyone in. A credential
 * names exactly one device and never counts as the owner (security/index.ts).
 */
export const JOIN_LINK_TTL_MS = 24 * 3600 * 1000;
export const JOIN_PATH = '/join/';
export const DEVICE_COOKIE = 'burrow-device';

const hashOf = (token: string) => crypto.createHash('sha256').update(token).digest('hex');
const newToken = () => crypto.randomBytes(32).toString('base64url');
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function webCredentials(db: Db): WebCredentialsRepo {
  return new WebCredentialsRepo(db);
}

/** A fresh one-time join token for the device (its hash is stored); the link is <base>/join/<token>. */
export function createJoinToken(repo: WebCredentialsRepo, device: string, now = Date.now()): { token: string; expiresAt: number } {
  const token = newToken();
  const expiresAt = now + JOIN_LINK_TTL_MS;
  repo.add({ id: crypto.randomUUID(), device, kind: 'join', token_hash: hashOf(token), created_at: now, expires_at: expiresAt, user_agent: null });
  return { token, expiresAt };
}

export type JoinOutcome = { ok: true; device: string; credential: string } | { ok: false; reason: 'unknown' | 'used' | 'expired' | 'revoked' };

/** Trade a join token for a credential, once: a second use of the same link gets 'used'. */
export function exchangeJoinToken(repo: WebCredentialsRepo, token: string, userAgent: string | undefined, now = Date.now()): JoinOutcome {
  if (!TOKEN_RE.test(token)) return { ok: false, reason: 'unknown' };
  const row = repo.byHash(hashOf(token));
  if (!row || row.kind !== 'join') return { ok: false, reason: 'unknown' };
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
  if (row.used_at !== null) return { ok: false, reason: 'used' };
  if (row.expires_at !== null && row.expires_at < now) return { ok: false, reason: 'expired' };
  return repo.db.transaction((): JoinOutcome => {
    if (!repo.useJoin(row.id, now)) return { ok: false, reason: 'used' };
    const credential = newToken();
    repo.add({ id: crypto.randomUUID(), device: row.device, kind: 'credential', token_hash: hashOf(credential), created_at: now, expires_at: null, user_agent: (userAgent ?? '').slice(0, 300) || null });
    return { ok: true, device: row.device, credential };
  })();
}

export type CredentialCheck = { ok: true; device: string; id: string } | { ok: false; reason: 'missing' | 'unknown' | 'revoked' };

/** Which device a credential acts for, or why it does not count. */
export function checkCredential(repo: WebCredentialsRepo, token: string | undefined): CredentialCheck {
  if (!token) return { ok: false, reason: 'missing' };
  if (!TOKEN_RE.test(token)) return { ok: false, reason: 'unknown' };
  const row: WebCredentialRow | undefined = repo.byHash(hashOf(token));
  if (!row || row.kind !== 'credential') return { ok: false, reason: 'unknown' };
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
  return { ok: true, device: row.device, id: row.id };
}
