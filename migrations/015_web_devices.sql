-- Browsers that act as a device (issue 18: a phone with nothing installed). A one-time join link
-- (kind 'join', expires) is exchanged once for a long-lived credential (kind 'credential') kept
-- by the browser in an HttpOnly cookie. Only SHA-256 hashes of either are stored; revoking sets
-- revoked_at, and a revoked or expired row never authenticates again.
CREATE TABLE web_credentials (
  id TEXT PRIMARY KEY,
  device TEXT NOT NULL REFERENCES devices(name),
  kind TEXT NOT NULL CHECK (kind IN ('join', 'credential')),
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  used_at INTEGER,
  last_seen_at INTEGER,
  revoked_at INTEGER,
  user_agent TEXT
);
CREATE INDEX web_credentials_device ON web_credentials (device, kind);
