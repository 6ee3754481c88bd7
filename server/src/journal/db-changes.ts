import type { SubscriptionsRepo } from '../store/subscriptions-repo.js';
import type { SharesRepo } from '../store/shares-repo.js';
import type { TrashRepo } from '../store/trash-repo.js';
import type { MoveWaitsRepo } from '../store/move-waits-repo.js';
import type { ShareAdoptionsRepo } from '../store/share-adoptions-repo.js';
import type { RequestsRepo } from '../store/requests-repo.js';
import type { DevicesRepo } from '../store/devices-repo.js';

/**
 * Database changes an action makes. They are applied in the same transaction that marks the
 * action done, so they happen exactly once, never before the disk matches them.
 */
export type DbChange =
  | { db: 'subscribe'; device: string; path: string }
  | { db: 'unsubscribe'; device: string; path: string }
  | { db: 'exclude'; device: string; path: string }
  | { db: 'unexclude'; device: string; path: string }
  | { db: 'record-link'; device: string; path: string; ino: number; size: number; mtimeMs: number }
  | { db: 'forget-links'; device: string; path: string }
  | { db: 'share-add'; id: string; kind: 'file' | 'folder'; sourcePath: string; limitMb: number | null; createdBy: string; createdAt: number }
  | { db: 'share-revoke'; id: string; revokedTo: string | null; at: number }
  | { db: 'share-end'; id: string; reason: string; at: number }
  | { db: 'trash-add'; id: string; originalPath: string; kind: string; bytes: number; files: number; requestId: string; at: number }
  | { db: 'trash-restored'; id: string; at: number }
  | { db: 'move-wait'; requestId: string; source: string; path: string; targets: string[]; files: string[]; deadlineAt: number }
  | { db: 'move-finish'; requestId: string; state: 'done' | 'failed'; reason: string | null; result: Record<string, unknown> | null }
  | { db: 'share-adopted'; shareId: string; path: string; ino: number; bytes: number; at: number }
  | { db: 'device-remove'; device: string; reason: string; at: number };

export interface DbRepos {
  subscriptions: SubscriptionsRepo;
  shares: SharesRepo;
  trash: TrashRepo;
  moveWaits: MoveWaitsRepo;
  shareAdoptions: ShareAdoptionsRepo;
  requests: RequestsRepo;
  devices: DevicesRepo;
}

export function applyDbChange(c: DbChange, r: DbRepos): void {
  switch (c.db) {
    case 'subscribe':
      return r.subscriptions.add(c.device, c.path);
    case 'unsubscribe':
      return r.subscriptions.removeUnder(c.device, c.path);
    case 'exclude':
      return r.subscriptions.exclude(c.device, c.path);
    case 'unexclude':
      return r.subscriptions.unexcludeUnder(c.device, c.path);
    case 'record-link':
      return r.subscriptions.recordLink(c.device, c.path, c.ino, c.size, c.mtimeMs);
    case 'forget-links':
      return r.subscriptions.forgetLinksUnder(c.device, c.path);
    case 'share-add':
      return r.shares.add({ id: c.id, kind: c.kind, source_path: c.sourcePath, limit_mb: c.limitMb, created_by: c.createdBy, created_at: c.createdAt });
    case 'share-revoke':
      return r.shares.revoke(c.id, c.revokedTo, c.at);
    case 'share-end':
      return r.shares.end(c.id, c.reason, c.at);
    case 'trash-add':
      return r.trash.add({ id: c.id, original_path: c.originalPath, kind: c.kind, bytes: c.bytes, files: c.files, request_id: c.requestId, trashed_at: c.at });
    case 'trash-restored':
      return r.trash.markRestored(c.id, c.at);
    case 'move-wait':
      return r.moveWaits.add({ request_id: c.requestId, source: c.source, path: c.path, targets: c.targets, files: c.files, deadline_at: c.deadlineAt });
    case 'move-finish':
      // Only a move still waiting is finished: a second finish (after a crash) changes nothing.
      if (r.moveWaits.get(c.requestId)?.state !== 'waiting') return;
      r.moveWaits.finish(c.requestId, c.state, c.reason);
      {
        const before = r.requests.get(c.requestId)?.result;
        const merged = c.result === null ? before ?? null : JSON.stringify({ ...(before ? (JSON.parse(before) as Record<string, unknown>) : {}), ...c.result });
        return r.requests.setState(c.requestId, c.state, c.reason, merged);
      }
    case 'share-adopted':
      return r.shareAdoptions.record({ share_id: c.shareId, path: c.path, ino: c.ino, bytes: c.bytes, adopted_at: c.at });
    case 'device-remove':
      return r.devices.removeEverywhere(c.device, c.reason, c.at);
  }
}
