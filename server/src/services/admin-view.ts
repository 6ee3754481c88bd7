import type { Store } from '../store/index.js';
import { SecretsRepo } from '../store/secrets-repo.js';
import { SharesRepo, type ShareRow } from '../store/shares-repo.js';
import { computeStatus, type NasStatus } from './status.js';

/** A device with no agent report for this long counts as offline (the agent reports while it runs). */
export const ONLINE_WINDOW_MS = 10 * 60 * 1000;

export interface DeviceView {
  name: string;
  files: number;
  bytes: number;
  quotaBytes: number | null;
  createdAt: number;
  online: boolean;
  /** When its agent last reported (ms since epoch), null if it never did. */
  lastContact: number | null;
  agentVersion: string | null;
  freeBytes: number | null;
  /** Folders (or files) pinned on it: the balancer never evicts them. */
  pinned: string[];
}

/** Every device as the admin UI shows it: what it holds (from the index) and its agent's last report. */
export function devicesView(store: Store, status: NasStatus = computeStatus(store), now = Date.now()): DeviceView[] {
  const reports = new SecretsRepo(store.db);
  const created = new Map(store.devices.list().map((d) => [d.name, d.created_at]));
  return status.devices.map((d) => {
    const r = reports.report(d.name);
    return {
      ...d,
      createdAt: created.get(d.name) ?? 0,
      online: r !== undefined && now - r.reported_at < ONLINE_WINDOW_MS,
      lastContact: r?.reported_at ?? null,
      agentVersion: r?.agent_version ?? null,
      freeBytes: r?.free_bytes ?? null,
      pinned: store.pins.list(d.name).map((p) => p.path),
    };
  });
}

export interface RevokedShareView {
  id: string;
  path: string;
  kind: ShareRow['kind'];
  createdAt: number;
  revokedAt: number | null;
  /** Where a revoked shared folder's files went (relative to files/), if anywhere. */
  revokedTo: string | null;
}

export function revokedSharesView(store: Store): RevokedShareView[] {
  return new SharesRepo(store.db)
    .list()
    .filter((s) => s.state === 'revoked')
    .map((s) => ({ id: s.id, path: s.source_path, kind: s.kind, createdAt: s.created_at, revokedAt: s.revoked_at, revokedTo: s.revoked_to }))
    .sort((a, b) => (b.revokedAt ?? 0) - (a.revokedAt ?? 0));
}

export interface ChartBar {
  label: string;
  bytes: number;
  /** The bar's full scale (a device's limit); null draws against the chart's largest bar. */
  limitBytes: number | null;
}

/** The figures behind the overview charts: the same numbers `burrow status --json` prints. */
export function chartData(store: Store, status: NasStatus = computeStatus(store)): { storage: ChartBar[]; deviceLimits: ChartBar[]; dedupeSaved: ChartBar[] } {
  const shares = status.sharedFolders;
  return {
    storage: [
      { label: 'Store (files/)', bytes: status.bytes, limitBytes: null },
      ...status.devices.map((d) => ({ label: `device ${d.name}`, bytes: d.bytes, limitBytes: null })),
      ...shares.map((s) => ({ label: `share ${s.path}`, bytes: s.usedBytes, limitBytes: null })),
    ],
    deviceLimits: status.devices.map((d) => ({ label: d.name, bytes: d.bytes, limitBytes: d.quotaBytes })),
    dedupeSaved: dedupeSavedOverTime(store),
  };
}

/** Space dedupe has saved, summed run after run (real runs that finished), the last 12 runs. */
export function dedupeSavedOverTime(store: Store): ChartBar[] {
  const runs = store.dedupe
    .history(1000)
    .filter((r) => r.state === 'done' && !r.dry_run)
    .reverse();
  let total = 0;
  const bars = runs.map((r) => {
    total += r.bytes_saved;
    return { label: new Date(r.started_at).toISOString().slice(0, 16).replace('T', ' ') + ' UTC', bytes: total, limitBytes: null };
  });
  return bars.slice(-12);
}
