import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { decodeCatalogue } from '../../test/catalogue/decode.js';
import { DEVICES, type Household } from './household.js';
import { sha256, shaOf, treeShas, type Model, type Sha } from './model.js';

/**
 * The invariants checked after every phase, once the faults have stopped. Each returns the
 * problems it sees (empty = holds); the driver retries them all until they hold or a bounded
 * settle time runs out, because a synced household converges rather than jumps.
 */
export interface World {
  hh: Household;
  model: Model;
  canary: { dir: string; before: Map<string, Sha> };
  baseEntries: Set<string>;
  friend: { shareId: string; revoked: boolean; atRevoke: Map<string, Sha> | null };
  /** Known product bugs the soak reports (once each, in the summary) instead of stopping on (none today: every finding is fixed). */
  known: Map<string, string>;
  /** The NAS's trash.retentionDays, in ms. */
  retentionMs: number;
  stats: { trashEmptied: number };
}

const ino = (p: string): number | null => {
  try {
    const st = fs.lstatSync(p);
    return st.isFile() ? st.ino : null;
  } catch {
    return null;
  }
};
const exists = (p: string) => fs.existsSync(p);

function sameTree(a: Map<string, Sha>, b: Map<string, Sha>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: ${b.has(k) ? 'different content' : 'missing'}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k}: unexpected`);
  return out;
}

function inodesUnder(dir: string): Set<number> {
  const out = new Set<number>();
  try {
    for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out.add(fs.statSync(path.join(e.parentPath, e.name)).ino);
  } catch {
    /* no trash yet */
  }
  return out;
}

/** Files under a trash item that still share their inode with another path (nlink > 1). */
function linkedPayload(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    if (fs.statSync(p).nlink > 1) out.push(path.relative(path.dirname(dir), p));
  }
  return out;
}

/** A conflict copy beside `file` (name.conflict-<device>-<stamp>.ext) holding one of the given contents. */
function conflictCopyWith(file: string, shas: Set<Sha>): string | null {
  const ext = path.extname(file);
  const stem = path.basename(file, ext);
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.dirname(file));
  } catch {
    return null;
  }
  for (const n of names) if (n.startsWith(`${stem}.conflict-`) && n.endsWith(ext) && shas.has(shaOf(path.join(path.dirname(file), n)) ?? '')) return n;
  return null;
}

export async function checkAll(w: World): Promise<string[]> {
  const { hh, model } = w;
  const store = path.join(hh.nasRoot, 'files');
  const problems: string[] = [];
  // 1. No file the model says exists is missing or changed.
  const actual = new Map<string, Sha | null>();
  for (const [p, f] of model.files) {
    const s = shaOf(path.join(store, p));
    actual.set(p, s);
    if (s === null) problems.push(`store: files/${p} is missing`);
    else if (!f.shas.has(s)) {
      // An expected version that survives only as a conflict copy is a false conflict (finding 2 of SOAK.md).
      const copy = conflictCopyWith(path.join(store, p), f.shas);
      problems.push(`store: files/${p} changed (sha ${s.slice(0, 12)}, expected ${[...f.shas].map((x) => x.slice(0, 12)).join(' or ')})${copy ? `; the expected version is in the conflict copy ${copy}` : ''}`);
    }
  }
  // 2. Every device holds exactly what it asked for, as hard links of the store's inodes on the NAS.
  const trashInos = inodesUnder(path.join(hh.nasRoot, '.burrow', 'trash'));
  for (const d of DEVICES) {
    const want = model.wants.get(d)!;
    for (const p of [...want]) {
      const storeIno = ino(path.join(store, p));
      const linkIno = ino(path.join(hh.nasRoot, 'devices', d, p));
      // Missing while the store's inode is in the trash: a destroy of a deduped twin took it (finding 4).
      if (linkIno === null) problems.push(`${d}: NAS devices/${d}/${p} is missing${storeIno !== null && trashInos.has(storeIno) ? ' (its inode is in the trash: a destroy of a deduped twin took it)' : ''}`);
      else if (linkIno !== storeIno) problems.push(`${d}: NAS devices/${d}/${p} is not a hard link of files/${p} (ino ${linkIno} vs ${storeIno})`);
      const dev = shaOf(path.join(hh.agentRoot(d), 'files', p));
      const s = actual.get(p);
      if (dev === null) problems.push(`${d}: files/${p} is missing on the device`);
      else if (s && dev !== s) problems.push(`${d}: files/${p} on the device differs from the store`);
    }
    for (const p of model.files.keys()) {
      if (want.has(p)) continue;
      if (exists(path.join(hh.agentRoot(d), 'files', p))) problems.push(`${d}: holds files/${p}, which it never asked for (or gave up)`);
      if (exists(path.join(hh.nasRoot, 'devices', d, p))) problems.push(`${d}: NAS devices/${d}/${p} exists, but ${d} never asked for it (or gave up)`);
    }
  }
  // 3. Destroyed files are in the trash; 4. no request ran twice; no action left half done.
  const db = new Database(path.join(hh.nasRoot, '.burrow', 'burrow.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    problems.push(...checkTrash(w, db));
    const twice = db.prepare('SELECT request_id, count(*) AS n FROM trash WHERE request_id IS NOT NULL GROUP BY request_id HAVING n > 1').all() as Array<{ request_id: string; n: number }>;
    for (const t of twice) problems.push(`ran twice: request ${t.request_id} put ${t.n} items into the trash`);
    const open = db.prepare("SELECT request_id, action, state FROM journal WHERE state IN ('forward', 'rollback')").all() as Array<{ request_id: string; action: string; state: string }>;
    for (const j of open) problems.push(`journal: ${j.action} ${j.request_id} is still ${j.state} after the settle`);
    const stuck = db.prepare("SELECT id, action, path, state FROM requests WHERE state IN ('pending', 'running') AND source != 'auto'").all() as Array<{ id: string; action: string; path: string; state: string }>;
    for (const r of stuck) problems.push(`requests: ${r.action} ${r.path} (${r.id}) is still ${r.state}`);
  } finally {
    db.close();
  }
  for (const m of model.mkdirs) {
    const parent = path.join(store, m.parent);
    if (!exists(path.join(parent, m.name))) problems.push(`mkdir: files/${m.parent ? `${m.parent}/` : ''}${m.name} is missing`);
    let names: string[] = [];
    try {
      names = fs.readdirSync(parent);
    } catch {
      /* reported above */
    }
    const twins = names.filter((n) => n !== m.name && n.startsWith(m.name));
    if (twins.length) problems.push(`ran twice: mkdir ${m.name} also made ${twins.join(', ')}`);
  }
  // Shares: an active share holds hard links of the store; a revoked one is gone.
  for (const s of model.shares.values()) {
    const dir = path.join(hh.nasRoot, 'shared', s.id);
    if (s.active && !exists(dir)) problems.push(`share: active share ${s.id} of ${s.source} has no shared/${s.id}`);
    if (!s.active && exists(dir)) problems.push(`share: revoked share ${s.id} of ${s.source} still has shared/${s.id} with ${fs.readdirSync(dir, { recursive: true }).slice(0, 5).join(', ')}`);
    if (s.active && s.kind === 'file' && model.files.has(s.source)) {
      const a = ino(path.join(dir, path.basename(s.source)));
      const storeIno = ino(path.join(store, s.source));
      if (a !== storeIno) problems.push(`share: shared/${s.id}/${path.basename(s.source)} is not a hard link of files/${s.source}${a === null && storeIno !== null && trashInos.has(storeIno) ? ' (missing, its inode is in the trash: a destroy of a deduped twin took it)' : ''}`);
    }
  }
  // 5. Nothing exists outside the roots.
  problems.push(...sameTree(w.canary.before, treeShas(w.canary.dir, false)).map((x) => `canary changed: ${x}`));
  for (const e of fs.readdirSync(hh.base)) if (!w.baseEntries.has(e)) problems.push(`outside the roots: ${path.join(hh.base, e)} appeared`);
  // 6. The friend has exactly the share's content, and nothing new after a revoke.
  const friendTree = treeShas(hh.friendDir);
  if (!w.friend.revoked) problems.push(...sameTree(treeShas(path.join(hh.nasRoot, 'shared', w.friend.shareId)), friendTree).map((x) => `friend: ${x}`));
  else problems.push(...sameTree(w.friend.atRevoke!, friendTree).map((x) => `friend after revoke: ${x}`));
  // 7. The catalogue on every device matches the NAS's index; 8. torrents are served as made.
  problems.push(...checkCatalogues(w));
  problems.push(...(await checkTorrents(w)));
  // 9. An edit made on two devices at once loses neither side: the version that did not win the
  // path survives on the NAS, as the file itself or a conflict copy (in files/ or a device's folder).
  if (model.twoDeviceEdits.length) {
    const onNas = new Set([...treeShas(store).values(), ...treeShas(path.join(hh.nasRoot, 'devices')).values()]);
    for (const e of model.twoDeviceEdits)
      for (const [i, s] of e.shas.entries())
        if (!onNas.has(s)) problems.push(`two-device edit of files/${e.path}: ${i === 0 ? "alpha's" : "beta's"} version (sha ${s.slice(0, 12)}) is nowhere on the NAS, not even as a conflict copy`);
  }
  return problems;
}

/**
 * 3. Every destroyed file is in the trash until its retention ends: its bytes are under
 * .burrow/trash/<item>/ of its request while the item is there, and the item is never emptied
 * before trashed_at + retention (the NAS sweeps at start and hourly; the soak's NAS restarts often).
 */
function checkTrash(w: World, db: Database.Database): string[] {
  const { hh, model } = w;
  const problems: string[] = [];
  const rows = db.prepare('SELECT id, request_id, trashed_at, restored_at, emptied_at FROM trash WHERE request_id IS NOT NULL').all() as Array<{ id: string; request_id: string; trashed_at: number; restored_at: number | null; emptied_at: number | null }>;
  const trashDir = (id: string) => path.join(hh.nasRoot, '.burrow', 'trash', id);
  for (const x of model.destroyed) {
    if (x.emptied) continue;
    const mine = rows.filter((r) => r.request_id === x.requestId);
    if (mine.length === 0) {
      problems.push(`trash: nothing in the trash for destroy request ${x.requestId} (${x.path})`);
      continue;
    }
    for (const r of mine) {
      if (r.emptied_at === null) continue;
      if (r.emptied_at < r.trashed_at + w.retentionMs) problems.push(`trash: item ${r.id} (${x.path}) was emptied ${((r.trashed_at + w.retentionMs - r.emptied_at) / 1000).toFixed(1)} s before its retention ended`);
      if (exists(trashDir(r.id))) problems.push(`trash: item ${r.id} (${x.path}) is marked emptied but .burrow/trash/${r.id} is still there`);
    }
    const present = mine.filter((r) => r.emptied_at === null && r.restored_at === null);
    if (present.length === 0) {
      if (mine.some((r) => r.emptied_at !== null) && !problems.some((p) => p.includes(x.requestId))) {
        x.emptied = true;
        w.stats.trashEmptied++;
      }
      continue;
    }
    const inTrash = present.some((r) => [...treeShas(trashDir(r.id), false).values()].some((s) => x.shas.has(s)));
    if (!inTrash) {
      const shared = present.flatMap((r) => linkedPayload(trashDir(r.id)));
      problems.push(`trash: the destroyed content of ${x.path} is not under .burrow/trash/ (request ${x.requestId})${shared.length ? `; ${shared[0]} shares its inode with a live file (finding 3)` : ''}`);
    }
    if (!model.files.has(x.path) && exists(path.join(hh.nasRoot, 'files', x.path))) problems.push(`store: destroyed files/${x.path} is still in the store`);
  }
  return problems;
}

/** Every file of the NAS's index is in each device's catalogue with its size and the devices that hold it, and nothing else is. */
function checkCatalogues(w: World): string[] {
  const { hh } = w;
  const problems: string[] = [];
  const db = new Database(path.join(hh.nasRoot, '.burrow', 'burrow.db'), { readonly: true, fileMustExist: true });
  const index = new Map<string, { size: number; holders: Set<string> }>();
  try {
    db.pragma('busy_timeout = 5000');
    for (const r of db.prepare("SELECT path, size FROM entries WHERE area = 'files' AND kind = 'file'").all() as Array<{ path: string; size: number }>) index.set(r.path, { size: r.size, holders: new Set() });
    for (const r of db.prepare("SELECT area, path FROM entries WHERE area LIKE 'device:%' AND kind = 'file'").all() as Array<{ area: string; path: string }>) index.get(r.path)?.holders.add(r.area.slice('device:'.length));
  } finally {
    db.close();
  }
  // The index itself must be the store as it is on disk (else both could agree on something stale).
  const onDisk = filesOnDisk(path.join(hh.nasRoot, 'files'));
  for (const [p, size] of onDisk) if (index.get(p)?.size !== size) problems.push(`index: files/${p} (${size} B on disk) is ${index.has(p) ? `${index.get(p)!.size} B` : 'missing'} in the NAS index`);
  for (const p of index.keys()) if (!onDisk.has(p)) problems.push(`index: files/${p} is in the NAS index but not on disk`);
  for (const d of DEVICES) {
    let cat: ReturnType<typeof decodeCatalogue>;
    try {
      cat = decodeCatalogue(path.join(hh.agentRoot(d), 'catalogue'));
    } catch (err) {
      problems.push(`${d}: catalogue unreadable: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const mine: string[] = [];
    const seen = new Set<string>();
    for (const e of cat.entries) {
      if (e.kind !== 'f') continue;
      seen.add(e.path);
      const x = index.get(e.path);
      if (!x) mine.push(`${e.path} is in the catalogue but not in the NAS index`);
      else {
        if (x.size !== e.size) mine.push(`${e.path} is ${e.size} B in the catalogue, ${x.size} B in the NAS index`);
        const holders = e.holders.filter((h) => !h.startsWith('+')).sort().join(',');
        const want = [...x.holders].sort().join(',');
        if (holders !== want) mine.push(`${e.path} is held by [${holders}] in the catalogue, by [${want}] in the NAS index`);
      }
    }
    for (const p of index.keys()) if (!seen.has(p)) mine.push(`${p} is in the NAS index but not in the catalogue`);
    problems.push(...mine.slice(0, 8).map((m) => `${d}: catalogue: ${m}`));
    if (mine.length > 8) problems.push(`${d}: catalogue: … ${mine.length - 8} more differences`);
  }
  return problems;
}

function filesOnDisk(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const rel = path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    if (rel.split('/').some((part) => part.startsWith('.burrow'))) continue;
    try {
      out.set(rel, fs.statSync(path.join(dir, rel)).size);
    } catch {
      /* gone meanwhile: the next round sees it */
    }
  }
  return out;
}

/**
 * A torrent the NAS made is recorded with its .torrent file; the web seed of a public torrent of a
 * file serves exactly the bytes the torrent was made of, or refuses (410) once the file changed;
 * while the file is unchanged in the store it serves it.
 */
async function checkTorrents(w: World): Promise<string[]> {
  const { hh, model } = w;
  if (model.torrents.length === 0) return [];
  const problems: string[] = [];
  const db = new Database(path.join(hh.nasRoot, '.burrow', 'burrow.db'), { readonly: true, fileMustExist: true });
  let rows: Map<string, { state: string; stop_reason: string | null }>;
  try {
    db.pragma('busy_timeout = 5000');
    rows = new Map((db.prepare('SELECT id, state, stop_reason FROM torrents').all() as Array<{ id: string; state: string; stop_reason: string | null }>).map((r) => [r.id, r]));
  } finally {
    db.close();
  }
  for (const t of model.torrents) {
    const row = rows.get(t.id);
    if (!row) {
      problems.push(`torrent: ${t.kind} torrent ${t.id} of ${t.path} (request ${t.requestId}) is not in the torrents table`);
      continue;
    }
    if (row.state === 'active' && !exists(path.join(hh.nasRoot, '.burrow', 'torrents', `${t.id}.torrent`))) problems.push(`torrent: active torrent ${t.id} of ${t.path} has no .burrow/torrents/${t.id}.torrent`);
    if (t.kind !== 'public' || t.folder || !t.sha || !t.webSeed) continue;
    const now = model.files.get(t.path);
    const unchanged = !!now && now.shas.size === 1 && now.shas.has(t.sha) && !t.revoked;
    let status = 0;
    let body: Buffer | null = null;
    try {
      const res = await fetch(`${t.webSeed}${encodeURIComponent(path.basename(t.path))}`, { signal: AbortSignal.timeout(10_000) });
      status = res.status;
      body = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      problems.push(`torrent: the web seed of ${t.id} (${t.path}) did not answer: ${(err as Error).message}${cause ? ` (${cause})` : ''}; the torrent is ${row.state}${row.stop_reason ? ` (${row.stop_reason})` : ''}`);
      continue;
    }
    if ((status === 200 || status === 206) && sha256(body) !== t.sha) problems.push(`torrent: the web seed of ${t.id} serves bytes of ${t.path} that are not the torrent's (the torrent would fail its piece checks)`);
    else if (unchanged && status !== 200) problems.push(`torrent: the web seed of ${t.id} answers ${status} for ${t.path}, whose content has not changed since the torrent was made (state ${row.state}${row.stop_reason ? `: ${row.stop_reason}` : ''})`);
  }
  return problems;
}

/** Settle the model's open outcomes (two-device edits) on what the store now holds. */
export function resolveEithers(w: World): void {
  for (const [p, f] of w.model.files) {
    if (f.shas.size < 2) continue;
    const s = shaOf(path.join(w.hh.nasRoot, 'files', p));
    if (s && f.shas.has(s)) w.model.setFile(p, s);
  }
}
