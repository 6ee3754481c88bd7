-- Soak finding 15. The room a device has for Burrow (what it holds + its free space, from the
-- agent's reports), as the highest figure of each hour. The balancer caps a device at the highest
-- figure of the 24 hours up to its last report, so a disk that is full for a moment (a download,
-- a build) does not make the nightly balance evict the files the user got; a disk that stays full
-- for a day does. Rows older than a day are pruned when a report arrives.
CREATE TABLE device_capacity_hours (
  device          TEXT NOT NULL,
  hour            INTEGER NOT NULL,        -- ms since epoch / 3600000 (UTC hour)
  capacity_bytes  INTEGER NOT NULL,
  PRIMARY KEY (device, hour)
) WITHOUT ROWID;

INSERT INTO device_capacity_hours (device, hour, capacity_bytes)
  SELECT device, reported_at / 3600000, used_bytes + free_bytes FROM sync_device_reports
  WHERE used_bytes IS NOT NULL AND free_bytes IS NOT NULL;
