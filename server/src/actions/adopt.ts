import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, walk, lstatOrUndefined, sameInode, stamp } from './plan.js';
import { deviceArea } from '../store/entries-repo.js';

/** `name.ext` → `name.conflict-<device>-<YYYY-MM-DD-HHMMSS>.ext`: the device's version, kept beside the store's. */
export function conflictName(rel: string, device: string, now: Date): string {
  const dir = path.posix.dirname(rel);
  const base = path.posix.basename(rel);
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  const name = `${stem}.conflict-${device}-${stamp(now).compact}${ext}`;
  return dir === '.' ? name : `${dir}/${name}`;
}

function sameContent(a: string, b: string, size: number): boolean {
  if (size > 64 * 1024 * 1024) return false; // too big to compare here: keep both, never guess
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}

/**
 * adopt (internal, started by the NAS when the index sees devices/<d>/ change): a new file a
 * device put in its folder joins files/ at the same path; a device's new version of a file
 * replaces the store copy (the old one goes to the trash) and is relinked to every other
 * holder; if the store copy changed as well, both are kept, the device's under a conflict name.
 * When only the store copy was replaced (a new inode in files/), the device is relinked to it.
 */
export const adoptAction: Action = {
  name: 'adopt',
  summary: "take a device's new or changed files into the store",
  pathIn: 'device',
  needsDevice: true,
  needsConfirm: false,
  internal: true,
  checkArgs: () => null,
  start(req: ValidRequest, env: ActionEnv) {
    const L = env.layout;
    const d = req.device;
    const devRoot = L.device(d);
    const now = env.now();
    const b = new PlanBuilder(L);
    const out = { adopted: 0, replaced: 0, conflicts: [] as string[], relinked: 0 };
    const top = lstatOrUndefined(req.abs);
    if (!top) return b.build(out);
    const entries = top.isDirectory() ? [{ rel: req.path, abs: req.abs, st: top }, ...walk(req.abs, deviceArea(d), req.path)] : [{ rel: req.path, abs: req.abs, st: top }];
    const trashId = `replaced-${stamp(now).compact}-${crypto.createHash('sha1').update(req.id).digest('hex').slice(0, 8)}`;
    const trashDir = path.join(L.trash, trashId, 'payload');
    let trashed = 0;
    for (const e of entries) {
      if (e.rel === '') continue;
      const storeAbs = path.join(L.files, e.rel);
      const fst = lstatOrUndefined(storeAbs);
      if (e.st.isDirectory()) {
        if (!fst) b.ensureDir(storeAbs, L.files);
        continue;
      }
      if (!e.st.isFile() || sameInode(fst, e.st)) continue;
      if (!fst && !b.plannedDir(storeAbs)) {
        b.ensureDir(path.dirname(storeAbs), L.files);
        b.add({ op: 'link', from: b.rel(e.abs), to: b.rel(storeAbs) });
        b.commit.push({ db: 'record-link', device: d, path: e.rel, ino: e.st.ino, size: e.st.size, mtimeMs: e.st.mtimeMs });
        out.adopted++;
        continue;
      }
      const rec = env.subscriptions.linkOf(d, e.rel);
      // The store path still holds the inode this device was linked to: any in-place edit of it
      // reached the device through that same link, so the device's new version is a plain edit
      // made on top of it (a concurrent edit is the sync engine's conflict, on the device side).
      // Comparing the recorded size/mtime instead took every edit after an owner's in-place edit
      // for "both sides changed" (soak finding 2). The store's version still goes to the trash below.
      const storeUnchanged = fst?.isFile() && rec && rec.ino === fst.ino;
      if (fst?.isFile() && storeUnchanged) {
        // The device edited its copy: the new version becomes the store copy; the old one goes to the trash.
        const backup = path.join(trashDir, e.rel);
        b.ensureDir(path.dirname(backup), L.state);
        b.add({ op: 'link', from: b.rel(storeAbs), to: b.rel(backup) });
        b.add({ op: 'replace', from: b.rel(e.abs), to: b.rel(storeAbs), previousFrom: b.rel(backup) });
        trashed++;
        for (const other of env.store.devices.list()) {
          if (other.name === d) continue;
          const o = path.join(L.device(other.name), e.rel);
          if (!sameInode(lstatOrUndefined(o), fst)) continue;
          b.add({ op: 'replace', from: b.rel(e.abs), to: b.rel(o), previousFrom: b.rel(backup) });
          b.commit.push({ db: 'record-link', device: other.name, path: e.rel, ino: e.st.ino, size: e.st.size, mtimeMs: e.st.mtimeMs });
          b.devices.add(other.name);
          b.refresh.add(b.rel(o));
          out.relinked++;
        }
        b.commit.push({ db: 'record-link', device: d, path: e.rel, ino: e.st.ino, size: e.st.size, mtimeMs: e.st.mtimeMs });
        out.replaced++;
        continue;
      }
      if (fst?.isFile() && rec && rec.ino === e.st.ino && rec.size === e.st.size && rec.mtime_ms === e.st.mtimeMs) {
        // The store copy was replaced (a new inode in files/) and the device still holds the
        // version it was given: the device follows the store. Its old version goes to the trash.
        const backup = path.join(trashDir, 'devices', d, e.rel);
        b.ensureDir(path.dirname(backup), L.state);
        b.add({ op: 'link', from: b.rel(e.abs), to: b.rel(backup) });
        b.add({ op: 'replace', from: b.rel(storeAbs), to: b.rel(e.abs), previousFrom: b.rel(backup) });
        b.commit.push({ db: 'record-link', device: d, path: e.rel, ino: fst.ino, size: fst.size, mtimeMs: fst.mtimeMs });
        trashed++;
        out.relinked++;
        continue;
      }
      if (fst?.isFile() && !rec && fst.size === e.st.size && sameContent(storeAbs, e.abs, fst.size)) {
        // Same bytes, separate inode (a sync tool rewrote it): link the device back to the store copy.
        b.add({ op: 'replace', from: b.rel(storeAbs), to: b.rel(e.abs), previousFrom: null });
        b.commit.push({ db: 'record-link', device: d, path: e.rel, ino: fst.ino, size: fst.size, mtimeMs: fst.mtimeMs });
        out.relinked++;
        continue;
      }
      // Both sides changed (or the store holds something else there): keep both, never one silently.
      const cRel = conflictName(e.rel, d, now);
      const cAbs = path.join(L.files, cRel);
      if (lstatOrUndefined(cAbs)) continue;
      b.add({ op: 'link', from: b.rel(e.abs), to: b.rel(cAbs) });
      b.add({ op: 'link', from: b.rel(cAbs), to: b.rel(path.join(devRoot, cRel)) });
      if (fst?.isFile()) {
        b.add({ op: 'replace', from: b.rel(storeAbs), to: b.rel(e.abs), previousFrom: b.rel(cAbs) });
        b.commit.push({ db: 'record-link', device: d, path: e.rel, ino: fst.ino, size: fst.size, mtimeMs: fst.mtimeMs });
      }
      b.commit.push({ db: 'record-link', device: d, path: cRel, ino: e.st.ino, size: e.st.size, mtimeMs: e.st.mtimeMs });
      b.refresh.add(b.rel(cAbs));
      b.refresh.add(b.rel(path.join(devRoot, cRel)));
      out.conflicts.push(cRel);
    }
    if (trashed > 0)
      b.commit.push({ db: 'trash-add', id: trashId, originalPath: req.path, kind: 'previous-version', bytes: 0, files: trashed, requestId: req.id, at: now.getTime() });
    b.devices.add(d);
    b.refresh.add(b.rel(path.join(L.files, req.path)));
    b.refresh.add(b.rel(req.abs));
    return b.build(out);
  },
};
