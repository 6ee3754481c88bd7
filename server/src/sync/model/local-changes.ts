/**
 * A receive-only folder's local changes: listed, never sent, and reverted on
 * request (Syncthing's "revert local changes").
 */
import { SyncError } from '../errors.js';
import { walk } from './scanner.js';
import type { FolderState, LocalChange } from './folder-state.js';
import { pump } from './puller.js';
import { idOf } from './index-store.js';
import { checkSynced } from './status.js';
import { newWant } from './wanted.js';
import { sourcesOf } from './index-exchange.js';

/**
 * What differs on disk from the published versions (receive-only folders:
 * such changes are never sent). Files still being received are left out.
 */
export async function localChanges(f: FolderState): Promise<LocalChange[]> {
  if (!f.plainLevel || f.canPublish || f.closed) return [];
  const files = await walk(f.root);
  const out: LocalChange[] = [];
  const known = new Set<string>();
  for (const { path: rel, id } of f.entries.paths()) {
    known.add(rel);
    const e = f.entries.get(id);
    if (!e?.p || f.wanted.has(id) || f.applying.has(rel)) continue;
    const st = files.get(rel);
    if (e.p.del) {
      if (st) out.push({ path: rel, change: 'added' });
      continue;
    }
    const c = f.local.get(rel);
    if (!st) out.push({ path: rel, change: 'deleted' });
    else if (!c || c.size !== st.size || c.mtime !== st.mtime || c.ino !== st.ino || c.mode !== st.mode) out.push({ path: rel, change: 'modified' });
  }
  for (const rel of files.keys()) if (!known.has(rel)) out.push({ path: rel, change: 'added' });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Syncthing's "revert local changes" for a receive-only folder: files
 * changed or deleted here get the published version again (from peers),
 * files added here are removed. Returns what it reverted.
 */
export async function revert(f: FolderState): Promise<LocalChange[]> {
  if (f.canPublish || !f.plainLevel) throw new SyncError('MODE_NOT_ALLOWED', `revert is for receive-only folders; this folder is ${f.mode}`);
  const changes = await localChanges(f);
  for (const c of changes) {
    const id = idOf(f, c.path);
    const e = id ? f.entries.get(id) : undefined;
    if (c.change === 'added' || !e?.p) {
      try {
        f.fsa.unlink(c.path);
      } catch {
        // gone already
      }
      f.local.delete(c.path);
      continue;
    }
    f.local.delete(c.path);
    f.wanted.set(newWant(e.s, e.p, sourcesOf(f, e.s), e.s.hash, false));
  }
  f.lastSynced = false;
  pump(f);
  checkSynced(f);
  return changes;
}
