-- Several NAS (issue 15). This NAS's view of the members of its group, itself included.
-- Replicated facts come from the members' own files in .burrow/cluster/ (each member writes only
-- its own); this table is the local copy that `burrow nas list`, join strings and the request
-- gate read, plus what only this member observed (when it last reached each member).
CREATE TABLE nas_members (
  id                TEXT PRIMARY KEY,          -- the member's sync device id (16 hex)
  name              TEXT NOT NULL,             -- a label for people (the host name by default)
  addresses         TEXT NOT NULL,             -- JSON array of host:port where its sync engine listens
  zone              TEXT NOT NULL,             -- cluster.zone, or the first three octets of its public address
  is_self           INTEGER NOT NULL DEFAULT 0,
  joined_at         INTEGER NOT NULL,
  last_reachable_at INTEGER,                   -- last time this NAS had a live link to it (self: now)
  held_files        INTEGER,                   -- what it reported holding in files/
  held_bytes        INTEGER,
  free_bytes        INTEGER,
  disk_full         INTEGER NOT NULL DEFAULT 0,
  reported_at       INTEGER
);
CREATE UNIQUE INDEX nas_members_one_self ON nas_members (is_self) WHERE is_self = 1;

-- The group's shared secrets (files/ and the ledger .burrow/cluster/), set by `nas invite` on
-- the first member and by `nas join` on the others.
CREATE TABLE nas_cluster (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- When each member was reachable from this one: one row per uninterrupted stretch, extended
-- while the link lives (a compact log; rows older than 90 days are dropped).
CREATE TABLE nas_member_availability (
  member   TEXT NOT NULL,
  up_from  INTEGER NOT NULL,
  up_to    INTEGER NOT NULL,
  PRIMARY KEY (member, up_from)
);
