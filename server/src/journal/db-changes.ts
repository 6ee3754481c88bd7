import type { SubscriptionsRepo } from '../store/subscriptions-repo.js';
import type { SharesRepo } from '../store/shares-repo.js';
import type { TrashRepo } from '../store/trash-repo.js';

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
  | { db: 'trash-restored'; id: string; at: number };

export interface DbRepos {
  subscriptions: SubscriptionsRepo;
  shares: SharesRepo;
  trash: TrashRepo;
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
  }
}
