-- The store index: every entry under files/, devices/<d>/ and shared/<s>/.
-- `area` is 'files', 'device:<name>' or 'share:<id>'; `path` is relative to that area ('' = its root).
-- Hard links are found by (dev, ino): "which devices hold this file" is one indexed query.
CREATE TABLE entries (
  id        INTEGER PRIMARY KEY,
  area      TEXT NOT NULL,
  path      TEXT NOT NULL,
  parent    TEXT NOT NULL,           -- path of the containing folder within the area ('' at the top)
  kind      TEXT NOT NULL CHECK (kind IN ('file', 'dir', 'symlink', 'other', 'error')),
  size      INTEGER NOT NULL DEFAULT 0,
  mtime_ms  REAL NOT NULL DEFAULT 0,
  ino       INTEGER NOT NULL DEFAULT 0,
  dev       INTEGER NOT NULL DEFAULT 0,
  nlink     INTEGER NOT NULL DEFAULT 0,
  mode      INTEGER NOT NULL DEFAULT 0,
  uid       INTEGER NOT NULL DEFAULT 0,
  gid       INTEGER NOT NULL DEFAULT 0,
  link_target TEXT,                  -- symlinks: recorded, never followed
  error     TEXT,                    -- unreadable entries: the error, and the scan went on
  seen_at   INTEGER NOT NULL DEFAULT 0,
  UNIQUE (area, path)
);
CREATE INDEX entries_inode ON entries (dev, ino) WHERE kind = 'file';
CREATE INDEX entries_parent ON entries (area, parent);

-- Content hashes belong to an inode, so two paths that share an inode are hashed once.
-- A hash is valid only while size and mtime still match what was hashed.
CREATE TABLE contents (
  dev          INTEGER NOT NULL,
  ino          INTEGER NOT NULL,
  size         INTEGER NOT NULL,
  mtime_ms     REAL NOT NULL,
  partial_hash BLOB,                 -- sha256 of the first and last 64 KiB (size-bound)
  full_hash    BLOB,                 -- sha256 of the whole content
  hashed_at    INTEGER,
  PRIMARY KEY (dev, ino)
) WITHOUT ROWID;
CREATE INDEX contents_full ON contents (full_hash) WHERE full_hash IS NOT NULL;

CREATE TABLE devices (
  name        TEXT PRIMARY KEY,
  quota_bytes INTEGER,               -- NULL = no limit
  created_at  INTEGER NOT NULL
);

CREATE TABLE kv (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
