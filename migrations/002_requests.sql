-- Requests, their journal, and the state the actions keep (subscriptions, shares, trash).

-- Every request ever received, by its client-made id (a repeated id runs once).
CREATE TABLE requests (
  id          TEXT PRIMARY KEY,
  device      TEXT NOT NULL,
  action      TEXT NOT NULL,
  path        TEXT NOT NULL,
  args        TEXT NOT NULL DEFAULT '{}',   -- JSON
  confirm     INTEGER NOT NULL DEFAULT 0,
  source      TEXT NOT NULL,                 -- 'worklist' | 'http' | 'cli' | 'auto'
  state       TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
  reason      TEXT,
  result      TEXT,                          -- JSON
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX requests_device ON requests (device, updated_at);
CREATE INDEX requests_open ON requests (state) WHERE state IN ('pending', 'running');

-- How far the NAS has read each device's worklist. `ino` and `head_hash` notice a worklist
-- that was replaced or truncated (sync conflicts), which is then re-read from the start.
CREATE TABLE worklist_offsets (
  device      TEXT PRIMARY KEY,
  byte_offset INTEGER NOT NULL,
  ino         INTEGER NOT NULL,
  head_hash   TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- The link journal: one row per running action and how many of its steps are done, so a
-- restart finishes (or rolls back) what a crash interrupted. The plan (idempotent steps) sits
-- in its own table, because a progress update would otherwise rewrite a plan of megabytes.
CREATE TABLE journal (
  id          INTEGER PRIMARY KEY,
  request_id  TEXT NOT NULL UNIQUE REFERENCES requests (id),
  action      TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('forward', 'rollback', 'done', 'rolled-back')),
  steps_done  INTEGER NOT NULL DEFAULT 0,
  error       TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX journal_open ON journal (state) WHERE state IN ('forward', 'rollback');

CREATE TABLE journal_plans (
  journal_id  INTEGER PRIMARY KEY REFERENCES journal (id),
  plan        TEXT NOT NULL                  -- JSON: steps, commit, result, refresh, touched
);

-- get of a folder keeps it subscribed: files added later under it are linked too.
CREATE TABLE subscriptions (
  device      TEXT NOT NULL,
  path        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (device, path)
) WITHOUT ROWID;

-- Paths a device deleted locally inside a subscribed folder: never relinked automatically.
CREATE TABLE subscription_exclusions (
  device      TEXT NOT NULL,
  path        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (device, path)
) WITHOUT ROWID;

-- What the store copy was when a device link was made: tells a device edit from a conflict.
CREATE TABLE device_links (
  device      TEXT NOT NULL,
  path        TEXT NOT NULL,
  ino         INTEGER NOT NULL,
  size        INTEGER NOT NULL,
  mtime_ms    REAL NOT NULL,
  PRIMARY KEY (device, path)
) WITHOUT ROWID;

CREATE TABLE shares (
  id          TEXT PRIMARY KEY,              -- the folder name under shared/
  kind        TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
  source_path TEXT NOT NULL,                 -- relative to files/
  limit_mb    INTEGER,                       -- share-folder: -1 = no limit
  state       TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
  revoked_to  TEXT,                          -- revoke-share: the <name>-revoked-<dd-mm-yy> folder
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);
CREATE INDEX shares_source ON shares (source_path);

CREATE TABLE trash (
  id            TEXT PRIMARY KEY,            -- folder name under .burrow/trash/
  original_path TEXT NOT NULL,               -- relative to files/
  kind          TEXT NOT NULL,               -- 'file' | 'dir' | 'contents' (destroy-folder)
  bytes         INTEGER NOT NULL,
  files         INTEGER NOT NULL,
  request_id    TEXT,
  trashed_at    INTEGER NOT NULL,
  restored_at   INTEGER,
  emptied_at    INTEGER
);
