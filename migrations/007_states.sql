-- True states: the admin's device limit stands, and a share can end without being revoked.

-- Agent reports used to overwrite devices.quota_bytes with the effective limit. The admin's
-- limit is devices.quota_bytes again (the effective one is computed from it and the report);
-- devices that reported get back the admin limit the first report remembered.
UPDATE devices SET quota_bytes = (SELECT r.admin_quota_bytes FROM sync_device_reports r WHERE r.device = devices.name)
  WHERE name IN (SELECT device FROM sync_device_reports);

-- Why a share stopped when nobody revoked it (e.g. 'file destroyed'); its state is then 'revoked'
-- and it shows as "ended: <reason>".
ALTER TABLE shares ADD COLUMN end_reason TEXT;
