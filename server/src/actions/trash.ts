import path from 'node:path';
import type { RootLayout } from '../root/layout.js';
import type { TrashRepo, TrashRow } from '../store/trash-repo.js';
import { BurrowError } from '../errors.js';
import { stamp } from './plan.js';
import { anchoredAt, type AnchoredDir } from '../anchored-fs/index.js';

/**
 * The trash behind destroy: .burrow/trash/<id>/ holds meta.json, payload/ (what left files/)
 * and devices/<d>/ or shares/<s>/ (device or share copies the store did not hold). Items stay
 * for trash.retentionDays, then `emptyTrash` removes them. Restoring never overwrites: when the
 * original path is taken, the item comes back beside it as "<name>.restored-<date>".
 */
export interface TrashItem {
  id: string;
  originalPath: string;
  kind: string;
  files: number;
  bytes: number;
  trashedAt: string;
  expiresAt: string;
}

export function listTrash(repo: TrashRepo, retentionDays: number): TrashItem[] {
  return repo.present().map((r) => ({
    id: r.id,
    originalPath: r.original_path,
    kind: r.kind,
    files: r.files,
    bytes: r.bytes,
    trashedAt: new Date(r.trashed_at).toISOString(),
    expiresAt: new Date(r.trashed_at + retentionDays * 86_400_000).toISOString(),
  }));
}

/** A name beside `rel` (relative to the root) that nothing holds yet. */
function freeName(A: AnchoredDir, rel: string, now: Date): string {
  if (!A.exists(rel)) return rel;
  const base = `${rel}.restored-${stamp(now).compact}`;
  let out = base;
  for (let i = 2; A.exists(out); i++) out = `${base}-${i}`;
  return out;
}

function present(repo: TrashRepo, layout: RootLayout, id: string): TrashRow {
  const row = repo.get(id);
  if (!row || row.restored_at !== null || row.emptied_at !== null || !anchoredAt(layout.root).lstat(trashRel(layout, id))?.isDirectory())
    throw new BurrowError('NOT_IN_TRASH', `Nothing with the id ${JSON.stringify(id)} is in the trash.`, 'List what is there with "burrow trash list".');
  return row;
}

function trashRel(layout: RootLayout, id: string): string {
  if (id === '' || id.includes('/') || id === '.' || id === '..') throw new BurrowError('NOT_IN_TRASH', `${JSON.stringify(id)} is not a trash id.`, 'List what is there with "burrow trash list".');
  return `${path.relative(layout.root, layout.trash)}/${id}`;
}

/**
 * Put a trashed item back into files/. Returns the store paths (relative to files/) it came back to.
 * Every step goes through anchored-fs: a folder of the original path that became a symbolic link
 * refuses the restore there (nothing is written outside the root).
 */
export function restoreTrash(repo: TrashRepo, layout: RootLayout, id: string, now = new Date()): string[] {
  const row = present(repo, layout, id);
  const A = anchoredAt(layout.root);
  const dir = trashRel(layout, id);
  const payload = `${dir}/payload`;
  const filesRel = path.relative(layout.root, layout.files);
  const restored: string[] = [];
  const moveBack = (from: string, toRel: string) => {
    const to = freeName(A, toRel, now);
    try {
      A.mkdirp(path.posix.dirname(to));
      A.rename(from, to);
    } catch (err) {
      throw new BurrowError('RESTORE_FAILED', `Could not restore ${to.slice(filesRel.length + 1)}: ${(err as Error).message}`, 'Fix that path in files/ (or move it away), then restore again; what is left stays in the trash.', { cause: err });
    }
    restored.push(to.slice(filesRel.length + 1));
  };
  const orig = row.original_path === '' ? filesRel : `${filesRel}/${row.original_path}`;
  if (A.exists(payload)) {
    const names = A.readdir(payload).sort();
    if (row.kind === 'contents') {
      for (const name of names) moveBack(`${payload}/${name}`, `${orig}/${name}`);
    } else if (row.kind === 'previous-version') {
      for (const name of names) moveBack(`${payload}/${name}`, `${filesRel}/restored-${id}/${name}`);
    } else {
      for (const name of names) moveBack(`${payload}/${name}`, orig);
    }
  }
  // Copies only a device or a share had: back into the store, beside nothing they could overwrite.
  for (const extra of ['devices', 'shares']) {
    const p = `${dir}/${extra}`;
    if (A.exists(p)) moveBack(p, `${filesRel}/restored-${id}/${extra}`);
  }
  repo.markRestored(id, now.getTime());
  A.rmTree(dir);
  return restored;
}

/** Remove trashed items for good: one id, everything (`all`), or what is older than the retention time. */
export function emptyTrash(repo: TrashRepo, layout: RootLayout, opts: { id?: string; all?: boolean; retentionDays: number; now?: Date }): string[] {
  const now = opts.now ?? new Date();
  const rows = opts.id ? [present(repo, layout, opts.id)] : repo.present().filter((r) => opts.all || r.trashed_at + opts.retentionDays * 86_400_000 <= now.getTime());
  const out: string[] = [];
  for (const r of rows) {
    anchoredAt(layout.root).rmTree(trashRel(layout, r.id));
    repo.markEmptied(r.id, now.getTime());
    out.push(r.id);
  }
  return out;
}
