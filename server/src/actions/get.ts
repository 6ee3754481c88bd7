import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, walk, lstatOrUndefined, sameInode, refuse } from './plan.js';
import { formatBytes } from '../util/format-bytes.js';
import { deviceArea } from '../store/entries-repo.js';

export interface LinkSummary {
  kind: 'file' | 'dir';
  linked: number;
  alreadyThere: number;
  bytes: number;
  skipped: string[];
}

/**
 * Plan hard links from files/<rel> to devices/<device>/<rel>: a file, or a folder's whole
 * subtree (folders created as needed). A different file already at a device path is never
 * overwritten: it is reported as skipped (adoption deals with device edits).
 * `skipExcluded` leaves out what the device deleted itself (automatic links only).
 */
export function planLinksToDevice(b: PlanBuilder, env: ActionEnv, device: string, rel: string, opts: { skipExcluded?: boolean } = {}): LinkSummary {
  const filesAbs = rel === '' ? env.layout.files : path.join(env.layout.files, rel);
  const devRoot = env.layout.device(device);
  const top = lstatOrUndefined(filesAbs);
  if (!top || (!top.isFile() && !top.isDirectory())) throw refuse('UNKNOWN_PATH', `files/${rel} is not a file or folder in the store.`, 'Refresh the catalogue; it may have been moved or destroyed.');
  const sum: LinkSummary = { kind: top.isFile() ? 'file' : 'dir', linked: 0, alreadyThere: 0, bytes: 0, skipped: [] };
  const blocked: string[] = [];
  const linkOne = (r: string, src: string, st: import('node:fs').Stats) => {
    if (opts.skipExcluded && env.subscriptions.isExcluded(device, r)) return;
    const dst = path.join(devRoot, r);
    // Inside a folder this plan creates, nothing can be there yet: no stat needed.
    const dstSt = b.plannedDir(path.dirname(dst)) ? undefined : lstatOrUndefined(dst);
    if (sameInode(dstSt, st)) {
      sum.alreadyThere++;
      return;
    }
    if (dstSt) {
      sum.skipped.push(r);
      return;
    }
    b.ensureDir(path.dirname(dst), devRoot);
    b.add({ op: 'link', from: b.rel(src), to: b.rel(dst) });
    b.commit.push({ db: 'record-link', device, path: r, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
    sum.linked++;
    sum.bytes += st.size;
  };
  if (top.isFile()) {
    linkOne(rel, filesAbs, top);
  } else {
    const devTop = rel === '' ? devRoot : path.join(devRoot, rel);
    const devTopSt = lstatOrUndefined(devTop);
    if (devTopSt && !devTopSt.isDirectory()) throw refuse('PATH_TAKEN', `devices/${device}/${rel} is a file on the device, so the folder cannot be put there.`, 'Delete or rename it on the device, then try again.');
    if (rel !== '') b.ensureDir(devTop, devRoot);
    for (const e of walk(filesAbs, 'files', rel)) {
      if (blocked.some((x) => e.rel.startsWith(x + '/'))) continue;
      if (e.st.isDirectory()) {
        const dst = path.join(devRoot, e.rel);
        const dstSt = b.plannedDir(path.dirname(dst)) ? undefined : lstatOrUndefined(dst);
        if (dstSt && !dstSt.isDirectory()) {
          blocked.push(e.rel);
          sum.skipped.push(e.rel);
        } else if (!dstSt && !(opts.skipExcluded && env.subscriptions.isExcluded(device, e.rel))) b.ensureDir(dst, devRoot);
      } else if (e.st.isFile()) linkOne(e.rel, e.abs, e.st);
    }
  }
  b.devices.add(device);
  b.refresh.add(b.rel(rel === '' ? devRoot : path.join(devRoot, rel)));
  return sum;
}

/** Quota check before a get: ask the balancer for room, or explain why it does not fit. */
export async function ensureRoom(env: ActionEnv, device: string, bytes: number, keep: string[]): Promise<void> {
  if (bytes === 0) return;
  const quota = env.store.devices.get(device)?.effective_quota_bytes ?? null;
  if (quota === null) return;
  const used = env.store.entries.countByKind(deviceArea(device)).file?.bytes ?? 0;
  if (used + bytes <= quota) return;
  const why = `needs ${formatBytes(bytes)}, limit ${formatBytes(quota)} (${formatBytes(used)} already on ${device})`;
  if (!env.balancer) throw refuse('QUOTA', `Not enough room on ${device}: ${why}.`, `Delete something from ${device}, or raise its quota.`);
  const r = await env.balancer.makeRoom(device, used + bytes - quota, keep);
  if (!r.ok) throw refuse('QUOTA', `Not enough room on ${device}: ${r.reason ?? why}.`, `Delete something from ${device}, or raise its quota.`);
}

export const getAction: Action = {
  name: 'get',
  summary: 'hard-link a file or folder from the store to the device (a folder stays subscribed)',
  pathIn: 'files',
  needsDevice: true,
  needsConfirm: false,
  checkArgs: () => null,
  async start(req: ValidRequest, env: ActionEnv) {
    const b = new PlanBuilder(env.layout);
    const sum = planLinksToDevice(b, env, req.device, req.path);
    await ensureRoom(env, req.device, sum.bytes, [req.path]);
    b.commit.push({ db: 'unexclude', device: req.device, path: req.path });
    if (sum.kind === 'dir') b.commit.push({ db: 'subscribe', device: req.device, path: req.path });
    return b.build({ ...sum, skipped: sum.skipped.slice(0, 50), subscribed: sum.kind === 'dir' });
  },
};

/**
 * auto-get (internal): link what appeared in the store under a folder the device is
 * subscribed to, leaving out what the device deleted itself.
 */
export const autoGetAction: Action = {
  name: 'auto-get',
  summary: 'link new store files under a subscribed folder',
  pathIn: 'files',
  needsDevice: true,
  needsConfirm: false,
  internal: true,
  checkArgs: () => null,
  async start(req: ValidRequest, env: ActionEnv) {
    const b = new PlanBuilder(env.layout);
    if (!lstatOrUndefined(req.abs) || env.subscriptions.isExcluded(req.device, req.path)) return b.build({ linked: 0 });
    const sum = planLinksToDevice(b, env, req.device, req.path, { skipExcluded: true });
    await ensureRoom(env, req.device, sum.bytes, [req.path]);
    return b.build({ ...sum, skipped: sum.skipped.slice(0, 50) });
  },
};
