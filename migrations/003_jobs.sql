-- Nightly jobs: dedupe of files/ and the storage balancer of devices/<d>/.

-- One row per running job, so a job never runs twice at once, even from two processes
-- (the NAS's cron and a `burrow dedupe` in a shell). A row whose pid is gone is stale.
CREATE TABLE job_locks (
  name       TEXT PRIMARY KEY,          -- 'dedupe' | 'balance'
  pid        INTEGER NOT NULL,
  host       TEXT NOT NULL,
  token      TEXT NOT NULL,
  started_at INTEGER NOT NULL
);

-- Dedupe history (shown in the admin UI): one row per run, the full report as JSON.
CREATE TABLE dedupe_runs (
  id           INTEGER PRIMARY KEY,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  dry_run      INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'interrupted')),
  groups       INTEGER NOT NULL DEFAULT 0,
  files_linked INTEGER NOT NULL DEFAULT 0,
  bytes_saved  INTEGER NOT NULL DEFAULT 0,
  bytes_skipped INTEGER NOT NULL DEFAULT 0,
  report       TEXT,                    -- JSON DedupeReport
  error        TEXT
);

-- The dedupe journal: written before each replacement, closed after it. A row still open at
-- start means a run died mid-step; recovery removes its temp link (only if it is the keeper's inode).
CREATE TABLE dedupe_journal (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL,
  keeper_path TEXT NOT NULL,            -- relative to files/
  dup_path    TEXT NOT NULL,
  temp_path   TEXT,                     -- relative to files/, set with the row
  keeper_dev  INTEGER NOT NULL,
  keeper_ino  INTEGER NOT NULL,
  dup_ino     INTEGER NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('planned', 'done', 'recovered')),
  created_at  INTEGER NOT NULL
);
CREATE INDEX dedupe_journal_open ON dedupe_journal (state) WHERE state = 'planned';

-- Use of a device's files, for the balancer's "least recently used" (times in ms since epoch).
CREATE TABLE device_usage (
  device       TEXT NOT NULL,
  path         TEXT NOT NULL,           -- relative to devices/<device>/ (= to files/)
  got_at       INTEGER,                 -- when the link appeared on the NAS (a get, or the device's own file)
  opened_at    INTEGER,                 -- reported by the device's agent
  modified_at  INTEGER,                 -- reported by the device's agent, or seen changing on the NAS
  PRIMARY KEY (device, path)
) WITHOUT ROWID;

-- Folders (or files) a user pinned on a device: the balancer never evicts below them.
CREATE TABLE pins (
  device     TEXT NOT NULL,
  path       TEXT NOT NULL,             -- relative to files/; '' pins the whole device
  created_at INTEGER NOT NULL,
  PRIMARY KEY (device, path)
) WITHOUT ROWID;

-- Balancer history: one row per run or makeRoom call that evicted or failed.
CREATE TABLE balance_runs (
  id          INTEGER PRIMARY KEY,
  device      TEXT NOT NULL,
  at          INTEGER NOT NULL,
  dry_run     INTEGER NOT NULL,
  ok          INTEGER NOT NULL,
  needed      INTEGER NOT NULL,         -- bytes that had to be freed
  freed       INTEGER NOT NULL,
  evicted     TEXT NOT NULL,            -- JSON array of paths
  reason      TEXT
);
