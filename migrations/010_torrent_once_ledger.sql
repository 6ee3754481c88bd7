-- What the NAS has sent of each 1-time torrent, and to whom, so a restart neither re-opens a
-- used 1-time torrent (that is torrents.state = 'used') nor forgets a partial download.
CREATE TABLE torrent_once_ledger (
  torrent_id        TEXT PRIMARY KEY REFERENCES torrents (id),
  recipient_ip      TEXT,                       -- bound by the first request on any path
  recipient_peer_id TEXT,                       -- hex; bound by the first announce with the passkey
  spans             TEXT NOT NULL DEFAULT '[]', -- JSON [[start, end), ...] of torrent bytes sent
  covered_bytes     INTEGER NOT NULL DEFAULT 0, -- distinct bytes sent (the sum of spans)
  bytes_sent        INTEGER NOT NULL DEFAULT 0, -- every byte sent, repeats included
  updated_at        INTEGER NOT NULL
);
