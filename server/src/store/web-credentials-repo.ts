import type { Db } from './db.js';

export type WebCredentialKind = 'join' | 'credential';

export interface WebCredentialRow {
  id: string;
  device: string;
  kind: WebCredentialKind;
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  used_at: number | null;
  last_seen_at: number | null;
  revoked_at: number | null;
  user_agent: string | null;
}

/** Browser devices' one-time join links and credentials, by hash only (migrations/015_web_devices.sql). */
export class WebCredentialsRepo {
  constructor(readonly db: Db) {}

  add(row: Pick<WebCredentialRow, 'id' | 'device' | 'kind' | 'token_hash' | 'created_at' | 'expires_at' | 'user_agent'>): void {
    this.db
      .prepare('INSERT INTO web_credentials (id, device, kind, token_hash, created_at, expires_at, user_agent) VALUES (@id, @device, @kind, @token_hash, @created_at, @expires_at, @user_agent)')
      .run(row);
  }

  byHash(hash: string): WebCredentialRow | undefined {
    return this.db.prepare('SELECT * FROM web_credentials WHERE token_hash = ?').get(hash) as WebCredentialRow | undefined;
  }

  /** Mark a join link used; true only for the one caller that used it first (so a link works once). */
  useJoin(id: string, now: number): boolean {
    return this.db.prepare("UPDATE web_credentials SET used_at = ? WHERE id = ? AND kind = 'join' AND used_at IS NULL AND revoked_at IS NULL").run(now, id).changes === 1;
  }

  seen(id: string, now: number): void {
    this.db.prepare('UPDATE web_credentials SET last_seen_at = ? WHERE id = ?').run(now, id);
  }

  /** Revoke every join link and credential of a device; returns how many were live. */
  revokeDevice(device: string, now: number): number {
    return this.db.prepare('UPDATE web_credentials SET revoked_at = ? WHERE device = ? AND revoked_at IS NULL').run(now, device).changes;
  }

  listForDevice(device: string): WebCredentialRow[] {
    return this.db.prepare('SELECT * FROM web_credentials WHERE device = ? ORDER BY created_at').all(device) as WebCredentialRow[];
  }

  listLive(now: number): WebCredentialRow[] {
    return this.db
      .prepare("SELECT * FROM web_credentials WHERE revoked_at IS NULL AND (kind = 'credential' OR (used_at IS NULL AND expires_at > ?)) ORDER BY device, created_at")
      .all(now) as WebCredentialRow[];
  }
}
