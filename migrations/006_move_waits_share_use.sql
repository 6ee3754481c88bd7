-- A move keeps the source's links until every target holds the files, and a shared folder
-- counts what its friends added to the store against its size limit.

-- One row per move that linked its targets and now waits for them to hold the files before
-- the source's links go. The request stays 'running' meanwhile; the row survives restarts.
CREATE TABLE move_waits (
  request_id   TEXT PRIMARY KEY,
  source       TEXT NOT NULL,                -- the device the files leave
  path         TEXT NOT NULL,                -- the moved path, relative to files/
  targets      TEXT NOT NULL,                -- JSON array of device names
  files        TEXT NOT NULL,                -- JSON array of paths (relative to files/) the targets must hold
  deadline_at  INTEGER NOT NULL,             -- after this the source keeps the files and the move fails
  state        TEXT NOT NULL CHECK (state IN ('waiting', 'done', 'failed')),
  reason       TEXT,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX move_waits_waiting ON move_waits (state) WHERE state = 'waiting';

-- Files a friend wrote into a shared folder and the NAS took into files/. Their bytes count
-- against the share's limit while the store copy (files/<path>, same inode) is still there.
CREATE TABLE share_adoptions (
  share_id    TEXT NOT NULL,
  path        TEXT NOT NULL,                 -- relative to files/
  ino         INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  adopted_at  INTEGER NOT NULL,
  PRIMARY KEY (share_id, path)
);

-- Files the NAS's sync engine received from a friend into a shared folder (the inode it wrote).
-- Only these are a friend's: what the owner linked into the share never counts, even when the
-- owner later deletes the store copy and the share's link is the last one.
CREATE TABLE share_received (
  share_id     TEXT NOT NULL,
  path         TEXT NOT NULL,                -- relative to shared/<share_id>/
  ino          INTEGER NOT NULL,
  received_at  INTEGER NOT NULL,
  PRIMARY KEY (share_id, path)
);
