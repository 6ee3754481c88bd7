import fs from 'node:fs';
import path from 'node:path';
import type { RootLayout } from '../root/layout.js';
import type { TrashRepo, TrashRow } from '../store/trash-repo.js';
import { BurrowError } from '../errors.js';
import { stamp } from './plan.js';

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

function freeName(abs: string, now: Date): string {
  if (!fs.existsSync(abs)) return abs;
  const base = `${abs}.restored-${stamp(now).compact}`;
  let out = base;
  for (let i = 2; fs.existsSync(out); i++) out = `${base}-${i}`;
  return out;
}

function present(repo: TrashRepo, layout: RootLayout, id: string): TrashRow {
  const row = repo.get(id);
  if (!row || row.restored_at !== null || row.emptied_at !== null || !fs.existsSync(path.join(layout.trash, id)))
    throw new BurrowError('NOT_IN_TRASH', `Nothing with the id ${JSON.stringify(id)} is in the trash.`, 'List what is there with "burrow trash list".');
  return row;
}

/** Put a trashed item back into files/. Returns the store paths (relative to files/) it came back to. */
export function restoreTrash(repo: TrashRepo, layout: RootLayout, id: string, now = new Date()): string[] {
  const row = present(repo, layout, id);
  const dir = path.join(layout.trash, id);
  const payload = path.join(dir, 'payload');
  const restored: string[] = [];
  const moveBack = (from: string, toAbs: string) => {
    const to = freeName(toAbs, now);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.renameSync(from, to);
    restored.push(path.relative(layout.files, to));
  };
  const origAbs = path.join(layout.files, row.original_path);
  if (fs.existsSync(payload)) {
    if (row.kind === 'contents') {
      for (const name of fs.readdirSync(payload).sort()) moveBack(path.join(payload, name), path.join(origAbs, name));
    } else if (row.kind === 'previous-version') {
      for (const name of fs.readdirSync(payload).sort()) moveBack(path.join(payload, name), path.join(layout.files, `restored-${id}`, name));
    } else {
      for (const name of fs.readdirSync(payload).sort()) moveBack(path.join(payload, name), origAbs);
    }
  }
  // Copies only a device or a share had: back into the store, beside nothing they could overwrite.
  for (const extra of ['devices', 'shares']) {
    const p = path.join(dir, extra);
    if (fs.existsSync(p)) moveBack(p, path.join(layout.files, `restored-${id}`, extra));
  }
  repo.markRestored(id, now.getTime());
  fs.rmSync(dir, { recursive: true, force: true });
  return restored;
}

/** Remove trashed items for good: one id, everything (`all`), or what is older than the retention time. */
export function emptyTrash(repo: TrashRepo, layout: RootLayout, opts: { id?: string; all?: boolean; retentionDays: number; now?: Date }): string[] {
  const now = opts.now ?? new Date();
  const rows = opts.id ? [present(repo, layout, opts.id)] : repo.present().filter((r) => opts.all || r.trashed_at + opts.retentionDays * 86_400_000 <= now.getTime());
  const out: string[] = [];
  for (const r of rows) {
    fs.rmSync(path.join(layout.trash, r.id), { recursive: true, force: true });
    repo.markEmptied(r.id, now.getTime());
    out.push(r.id);
  }
  return out;
}
