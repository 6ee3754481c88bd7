import type { Store } from '../store/index.js';
import { FILES_AREA, deviceArea, shareArea } from '../store/entries-repo.js';
import { SharesRepo } from '../store/shares-repo.js';
import { shareLimitBytes } from '../actions/adopt-share.js';
import { TorrentsRepo } from '../store/torrents-repo.js';
import type { BurrowConfig } from '../config/schema.js';
import { torrentBaseUrl } from '../torrent/public-url.js';

export interface NasStatus {
  files: number;
  folders: number;
  bytes: number;
  symlinks: number;
  errors: number;
  hash: { hashedFiles: number; hashedBytes: number; totalFiles: number; totalBytes: number; percent: number };
  devices: Array<{ name: string; files: number; bytes: number; quotaBytes: number | null }>;
  /** Active shared folders (share-folder): what friends added to files/ against the limit (null = none). */
  sharedFolders: ShareUse[];
  /** The torrent listener (torrent.port) is on while the NAS runs and a torrent is active. */
  torrents?: { active: number; total: number; host: string; port: number; listener: 'on' | 'off'; enabled: boolean; publicUrl: string; serves: string[] };
}

export interface ShareUse {
  id: string;
  path: string;
  usedBytes: number;
  limitBytes: number | null;
  /** Files friends wrote that the NAS did not take (over the limit, or outside the folder). */
  refusedFiles: number;
}

/** A shared folder's use from the index: adopted files still in files/ with the same inode. */
export function sharedFolderUse(store: Store): ShareUse[] {
  const out: ShareUse[] = [];
  for (const s of new SharesRepo(store.db).list({ active: true })) {
    if (s.limit_mb === null) continue;
    const rows = store.shareAdoptions.list(s.id);
    const taken = new Set(rows.map((r) => r.ino));
    const usedBytes = rows.reduce((a, r) => (store.entries.get(FILES_AREA, r.path)?.ino === r.ino ? a + r.bytes : a), 0);
    let refusedFiles = 0;
    for (const [rel, ino] of store.shareAdoptions.received(s.id)) if (!taken.has(ino) && store.entries.get(shareArea(s.id), rel)?.ino === ino) refusedFiles++;
    out.push({ id: s.id, path: s.source_path, usedBytes, limitBytes: shareLimitBytes(s), refusedFiles });
  }
  return out;
}

function torrentStatus(store: Store, config: BurrowConfig): NasStatus['torrents'] {
  let active = 0;
  let total = 0;
  try {
    const repo = new TorrentsRepo(store.db);
    active = repo.countActive();
    total = repo.list().length;
  } catch {
    // A read-only open of a root whose database predates the torrents table.
  }
  return {
    active,
    total,
    host: config.torrent.host,
    port: config.torrent.port,
    listener: active > 0 && config.torrent.enabled ? 'on' : 'off',
    enabled: config.torrent.enabled,
    publicUrl: torrentBaseUrl(config),
    serves: ['web seed (BEP 19)', 'HTTP tracker (/tr/<passkey>/announce)', 'peer wire (BEP 3)'],
  };
}

/** The numbers `GET /api/status` and `burrow status` both report. */
export function computeStatus(store: Store, config?: BurrowConfig): NasStatus {
  const c = store.entries.countByKind(FILES_AREA);
  const p = store.contents.progress();
  return {
    files: c.file?.n ?? 0,
    folders: c.dir?.n ?? 0,
    bytes: c.file?.bytes ?? 0,
    symlinks: c.symlink?.n ?? 0,
    errors: c.error?.n ?? 0,
    hash: {
      hashedFiles: p.hashed,
      hashedBytes: p.hashedBytes,
      totalFiles: p.files,
      totalBytes: p.bytes,
      percent: p.bytes === 0 ? 100 : Math.round((1000 * p.hashedBytes) / p.bytes) / 10,
    },
    devices: store.devices.list().map((d) => {
      const dc = store.entries.countByKind(deviceArea(d.name));
      return { name: d.name, files: dc.file?.n ?? 0, bytes: dc.file?.bytes ?? 0, quotaBytes: d.effective_quota_bytes };
    }),
    sharedFolders: sharedFolderUse(store),
    ...(config ? { torrents: torrentStatus(store, config) } : {}),
  };
}
