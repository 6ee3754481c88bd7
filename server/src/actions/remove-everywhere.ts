import path from 'node:path';
import crypto from 'node:crypto';
import type { ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, walk, lstatOrUndefined, stamp, deviceSafe } from './plan.js';
import { deviceArea, FILES_AREA } from '../store/entries-repo.js';

/**
 * The shared core of destroy and destroy-folder: remove store items (paths relative to
 * files/) from files/, from every device and from every share, into one trash entry.
 * Nothing is deleted: store content is renamed into .burrow/trash/<id>/payload, and a device
 * copy the store does not hold (an edit not adopted yet) is moved to .burrow/trash/<id>/devices/.
 * Order: device and share links first, then empty device folders, then the store copy, so
 * an interrupted destroy never leaves a device link to something no longer in files/.
 */
export interface RemovePlan {
  trashId: string;
  files: number;
  bytes: number;
  linksRemoved: number;
  deviceCopiesTrashed: number;
}

export function trashIdFor(req: ValidRequest, now: Date): string {
  return `${stamp(now).compact}-${crypto.createHash('sha1').update(req.id).digest('hex').slice(0, 8)}`;
}

export function planRemoveEverywhere(
  b: PlanBuilder,
  env: ActionEnv,
  req: ValidRequest,
  items: string[],
  opts: { kind: 'file' | 'dir' | 'contents'; originalPath: string; now: Date },
): RemovePlan {
  const L = env.layout;
  const trashId = trashIdFor(req, opts.now);
  const itemDir = path.join(L.trash, trashId);
  const payload = path.join(itemDir, 'payload');
  const out: RemovePlan = { trashId, files: 0, bytes: 0, linksRemoved: 0, deviceCopiesTrashed: 0 };

  // Inodes of everything being removed, with the store path that keeps each one (for undo).
  const byIno = new Map<number, string>();
  for (const item of items) {
    const abs = path.join(L.files, item);
    const st = lstatOrUndefined(abs);
    if (!st) continue;
    if (st.isFile()) byIno.set(st.ino, item);
    if (st.isDirectory()) for (const e of walk(abs, FILES_AREA, item)) if (e.st.isFile()) byIno.set(e.st.ino, e.rel);
    if (st.isFile()) {
      out.files++;
      out.bytes += st.size;
    }
  }
  for (const item of items) {
    const abs = path.join(L.files, item);
    if (lstatOrUndefined(abs)?.isDirectory())
      for (const e of walk(abs, FILES_AREA, item))
        if (e.st.isFile()) {
          out.files++;
          out.bytes += e.st.size;
        }
  }

  b.ensureDir(itemDir, L.state);
  b.ensureDir(payload, itemDir);
  b.add({
    op: 'write',
    path: b.rel(path.join(itemDir, 'meta.json')),
    content: JSON.stringify({ id: trashId, originalPath: opts.originalPath, kind: opts.kind, items, requestId: req.id, by: req.device, trashedAt: opts.now.toISOString(), files: out.files, bytes: out.bytes }, null, 2) + '\n',
  });
  b.endStep();

  const planned = new Set<string>();
  const emptyDirs: string[] = [];
  const dev = lstatOrUndefined(L.files)?.dev ?? 0;
  for (const d of env.store.devices.list()) {
    const devRoot = L.device(d.name);
    let touched = false;
    for (const item of items) {
      const abs = deviceSafe(devRoot, item);
      if (!abs) continue;
      const st = lstatOrUndefined(abs);
      if (!st) continue;
      touched = true;
      const entries = st.isDirectory() ? [...walk(abs, deviceArea(d.name), item)] : [{ rel: item, abs, st }];
      if (st.isDirectory()) emptyDirs.push(abs);
      for (const e of entries) {
        if (e.st.isDirectory()) emptyDirs.push(e.abs);
        else if (e.st.isFile() && byIno.has(e.st.ino) && e.st.dev === dev) {
          b.add({ op: 'unlink', path: b.rel(e.abs), ino: e.st.ino, keep: b.rel(path.join(L.files, byIno.get(e.st.ino)!)) });
          planned.add(e.abs);
          out.linksRemoved++;
        } else {
          const to = path.join(itemDir, 'devices', d.name, e.rel);
          b.ensureDir(path.dirname(to), itemDir);
          b.add({ op: 'rename', from: b.rel(e.abs), to: b.rel(to) });
          planned.add(e.abs);
          out.deviceCopiesTrashed++;
        }
      }
    }
    if (touched) {
      b.devices.add(d.name);
      for (const item of items) b.refresh.add(b.rel(path.join(devRoot, item)));
    }
  }
  // Links elsewhere (shares, or a device that keeps the file under another path), from the index.
  for (const [ino, storeRel] of byIno) {
    for (const h of env.store.entries.holdersOf(dev, ino)) {
      const base = h.area.startsWith('device:') ? L.device(h.area.slice(7)) : h.area.startsWith('share:') ? L.share(h.area.slice(6)) : null;
      if (!base) continue;
      const abs = path.join(base, h.path);
      if (planned.has(abs) || lstatOrUndefined(abs)?.ino !== ino) continue;
      // Dedupe makes different store paths one inode: a device link under a path the store still
      // holds (and this destroy does not remove) is that other entry's copy, not a renamed one.
      if (h.area.startsWith('device:') && keepsStorePath(L.files, h.path, items)) continue;
      // The same for a share's link: it stands for files/<dirname(source)>/<its path in the share>.
      if (h.area.startsWith('share:')) {
        const source = env.shares.get(h.area.slice(6))?.source_path;
        if (source !== undefined && keepsStorePath(L.files, path.posix.join(path.posix.dirname(source), h.path), items)) continue;
      }
      b.add({ op: 'unlink', path: b.rel(abs), ino, keep: b.rel(path.join(L.files, storeRel)) });
      planned.add(abs);
      out.linksRemoved++;
      b.refresh.add(b.rel(abs));
      if (h.area.startsWith('share:')) b.shares.add(h.area.slice(6));
      else b.devices.add(h.area.slice(7));
    }
  }
  b.endStep();
  for (const dir of emptyDirs.sort((x, y) => y.length - x.length)) b.add({ op: 'rmdir', path: b.rel(dir), ifEmpty: true });
  b.endStep();

  for (const item of items) {
    const abs = path.join(L.files, item);
    if (!lstatOrUndefined(abs)) continue;
    b.add({ op: 'rename', from: b.rel(abs), to: b.rel(path.join(payload, path.basename(item))) });
    b.refresh.add(b.rel(abs));
  }
  b.endStep();

  // A destroyed file whose inode is still linked elsewhere (dedupe made it one inode with a
  // store file that stays, or a device keeps it under that twin's name) must not stay that inode
  // in the trash: an in-place edit of the live copy would rewrite what was destroyed, and a
  // restore would bring back the edit. Giving the trash copy its own inode keeps the destroyed
  // bytes intact whatever happens to the live file; restore then needs no special case. The
  // copy is decided when the step runs (nlink > 1 then), so links removed above do not count.
  const shared = sharedPayloadFiles(L.files, items);
  for (const rel of shared) b.add({ op: 'own-copy', path: b.rel(path.join(payload, rel)) });
  if (shared.length > 0) b.endStep();

  for (const d of env.store.devices.list()) {
    for (const item of items) b.commit.push({ db: 'unsubscribe', device: d.name, path: item }, { db: 'forget-links', device: d.name, path: item });
  }
  b.commit.push({ db: 'trash-add', id: trashId, originalPath: opts.originalPath, kind: opts.kind, bytes: out.bytes, files: out.files, requestId: req.id, at: opts.now.getTime() });
  return out;
}

/** Whether files/<rel> exists and lies outside every item being removed. */
function keepsStorePath(filesRoot: string, rel: string, items: string[]): boolean {
  if (items.some((item) => item === '' || rel === item || rel.startsWith(item + '/'))) return false;
  const abs = deviceSafe(filesRoot, rel);
  return abs !== null && lstatOrUndefined(abs)?.isFile() === true;
}

/** Payload paths (relative to payload/) of the files being removed that have more than one link now. */
function sharedPayloadFiles(filesRoot: string, items: string[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    const abs = path.join(filesRoot, item);
    const st = lstatOrUndefined(abs);
    if (!st) continue;
    const top = path.basename(item);
    if (st.isFile() && st.nlink > 1) out.push(top);
    if (st.isDirectory())
      for (const e of walk(abs, FILES_AREA, item)) if (e.st.isFile() && e.st.nlink > 1) out.push(path.join(top, path.relative(item, e.rel)));
  }
  return out;
}
