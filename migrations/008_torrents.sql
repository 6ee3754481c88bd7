-- Torrents the NAS made and seeds (burrow torrent, the catalogue's [create torrent] entries).
-- The .torrent itself lives in .burrow/torrents/<id>.torrent; `metainfo` keeps a copy so a
-- missing file can be written again.
CREATE TABLE torrents (
  id           TEXT PRIMARY KEY,             -- short random id (burrow torrent stop <id>)
  kind         TEXT NOT NULL CHECK (kind IN ('public', 'once')),
  source_path  TEXT NOT NULL,                -- relative to files/
  name         TEXT NOT NULL,                -- info.name
  info_hash    TEXT NOT NULL,                -- hex sha1 of the bencoded info dict
  token        TEXT NOT NULL UNIQUE,         -- secret in every URL the listener serves for it
  piece_length INTEGER NOT NULL,
  pieces       INTEGER NOT NULL,
  total_bytes  INTEGER NOT NULL,
  files        TEXT NOT NULL,                -- JSON [{path, size, mtimeMs, ino, dev}] as hashed
  metainfo     BLOB NOT NULL,                -- the bencoded .torrent
  state        TEXT NOT NULL CHECK (state IN ('active', 'stopped', 'used')),
  stop_reason  TEXT,
  downloads    INTEGER NOT NULL DEFAULT 0,   -- complete downloads seen (every byte served once)
  bytes_served INTEGER NOT NULL DEFAULT 0,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  stopped_at   INTEGER
);
CREATE INDEX torrents_source ON torrents (source_path);
