import type { OpenRoot } from '../root/open-root.js';
import { MembersRepo } from '../store/members-repo.js';
import { PlacementRepo, type FolderZonesRow, type PlacementRow } from '../store/placement-repo.js';
import { requiredZones } from './zone.js';

export interface GroupView {
  members: Array<{ id: string; name: string; self: boolean; zone: string; addresses: string[]; lastReachableAt: number | null; heldFiles: number | null; heldBytes: number | null; freeBytes: number | null; diskFull: boolean; reportedAt: number | null }>;
  zones: string[];
  requiredZones: number;
  /** zones whose members hold the whole store (as many files as the most complete member) */
  zonesHoldingAll: string[];
  /** which zones hold each folder and which files sit in too few zones, as last worked out (null: not yet) */
  placement: (PlacementRow & { folders: FolderZonesRow[] }) | null;
  warnings: string[];
}

/**
 * The group as this member sees it. The zone rule is checked per file (placement.ts: which
 * members' sync indexes hold each file's current version); until that was first worked out, a
 * member counts as a copy of the store when it reported holding as many files as the fullest.
 */
export function groupView(r: OpenRoot): GroupView {
  const rows = new MembersRepo(r.store.db).list();
  const members = rows.map((m) => ({
    id: m.id,
    name: m.name,
    self: m.is_self,
    zone: m.zone,
    addresses: m.addresses,
    lastReachableAt: m.last_reachable_at,
    heldFiles: m.held_files,
    heldBytes: m.held_bytes,
    freeBytes: m.free_bytes,
    diskFull: m.disk_full,
    reportedAt: m.reported_at,
  }));
  const zones = [...new Set(members.map((m) => m.zone))].sort();
  const need = requiredZones(r.config.cluster.replicasZones, zones);
  const most = Math.max(0, ...members.map((m) => m.heldFiles ?? 0));
  const zonesHoldingAll = [...new Set(members.filter((m) => (m.heldFiles ?? -1) >= most).map((m) => m.zone))].sort();
  const warnings: string[] = [];
  const repo = new PlacementRepo(r.store.db);
  const summary = repo.summary();
  const placement = summary && members.length > 0 ? { ...summary, folders: repo.folders(200) } : null;
  if (placement) {
    if (placement.under > 0)
      warnings.push(`${placement.under} of ${placement.files} files are kept in fewer than ${placement.required} zones (e.g. ${placement.samples.slice(0, 3).map((p) => JSON.stringify(p)).join(', ')}): a cut of that zone makes them unreachable`);
    for (const m of placement.members) if (!m.counted) warnings.push(`member ${m.name} (${m.id}) does not count as a copy: ${m.why}`);
  } else if (members.some((m) => m.heldFiles !== null) && zonesHoldingAll.length < need)
    warnings.push(`the whole store is held in ${zonesHoldingAll.length} zone(s) (${zonesHoldingAll.join(', ') || 'none'}), fewer than ${need}: a cut of ${zonesHoldingAll.length === 1 ? `zone ${zonesHoldingAll[0]}` : 'one zone'} may make files unreachable`);
  for (const m of members) if (m.diskFull) warnings.push(`member ${m.name} (${m.id}) has a full disk and takes no new files`);
  return { members, zones, requiredZones: need, zonesHoldingAll, placement, warnings };
}
