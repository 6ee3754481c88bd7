-- Sync: the folder secrets the NAS holds, and what each device agent last reported.

-- One row per folder the NAS syncs. Only the read-write secret is stored: the read-only and
-- encrypted secrets derive from it. This table is as sensitive as the keys folder.
CREATE TABLE sync_folders (
  kind        TEXT NOT NULL CHECK (kind IN ('device', 'share', 'catalogue')),
  name        TEXT NOT NULL,             -- device name, share id, or 'catalogue'
  read_write  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
);

-- The storage limit and free space a device agent reported (files/.burrow/agent-report.json).
-- admin_quota_bytes keeps what `burrow device add --quota` set, so a report never raises it.
CREATE TABLE sync_device_reports (
  device             TEXT PRIMARY KEY,
  limit_bytes        INTEGER,
  free_bytes         INTEGER,
  used_bytes         INTEGER,
  admin_quota_bytes  INTEGER,
  agent_version      TEXT,
  reported_at        INTEGER NOT NULL
);
