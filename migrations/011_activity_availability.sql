-- Issue 14. Sync activity: bytes the sync engine moved per folder and per minute (the NAS
-- samples its counters each minute; rows older than the keep window are pruned).
CREATE TABLE sync_activity (
  minute     INTEGER NOT NULL,            -- start of the minute, ms since epoch (UTC)
  folder     TEXT NOT NULL,               -- the engine's folder id: device:<d>, share:<id>, catalogue:catalogue
  bytes_in   INTEGER NOT NULL DEFAULT 0,
  bytes_out  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, folder)
) WITHOUT ROWID;

-- Device availability: when each device was reachable, as intervals (one row per unbroken
-- stretch, extended while the device stays reachable), kept 90 days.
CREATE TABLE device_availability (
  device     TEXT NOT NULL,
  from_at    INTEGER NOT NULL,            -- ms since epoch
  to_at      INTEGER NOT NULL,            -- last time it was seen reachable
  PRIMARY KEY (device, from_at)
) WITHOUT ROWID;
