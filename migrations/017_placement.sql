-- Several NAS (issue 15): which zones hold the store, as this member last worked it out from
-- its sync engine's view of what each member holds (nas-cluster/placement.ts). Rewritten whole
-- by each computation; read by `burrow nas list`, the admin UI and the catalogue's summary.

-- The folders of files/ worth showing: every top-level folder, and any deeper folder whose zones
-- differ from its parent's ('' is files/ itself). `zones` holds every file below it.
CREATE TABLE store_folder_zones (
  path   TEXT PRIMARY KEY,
  files  INTEGER NOT NULL,
  bytes  INTEGER NOT NULL,
  zones  TEXT NOT NULL,         -- JSON array of zone names, sorted
  under  INTEGER NOT NULL       -- files below it held in fewer zones than required
) WITHOUT ROWID;

-- One row: when it was worked out, the rule, and the files kept in too few zones (a sample).
CREATE TABLE store_placement (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  computed_at  INTEGER NOT NULL,
  required     INTEGER NOT NULL,
  files        INTEGER NOT NULL,
  under        INTEGER NOT NULL,
  samples      TEXT NOT NULL,     -- JSON array of up to 100 paths held in too few zones
  members      TEXT NOT NULL      -- JSON: [{id, name, zone, counted, why}]
);
