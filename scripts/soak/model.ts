import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Device } from './household.js';

/**
 * What the driver believes the household holds. Where an outcome cannot be known (a kill -9 during
 * a request, the same file edited on two devices), the model keeps every allowed outcome ("either")
 * and settles on the one the NAS reports, so the soak never raises a false alarm.
 */
export type Sha = string;

export interface FileFacts {
  /** The contents the store may hold at this path; more than one while the outcome is open. */
  shas: Set<Sha>;
}

export interface PendingRequest {
  id: string;
  device: Device;
  action: string;
  path: string;
  args: Record<string, unknown>;
  phase: number;
  step: number;
  /** posted: the agent answered 202; unknown: the POST failed or a kill hit while it ran. */
  posted: boolean;
  apply: (outcome: { id: string; state: string; result: Record<string, unknown> | null }) => void;
}

export interface ShareFacts {
  id: string;
  source: string;
  kind: 'file' | 'folder';
  active: boolean;
}

export interface TorrentFacts {
  id: string;
  path: string;
  kind: 'public' | 'once';
  folder: boolean;
  /** The content the torrent was made of (a settled file), else null. */
  sha: Sha | null;
  webSeed: string;
  requestId: string;
  /** A revoke of its path (or a folder above it) ends every sharing of it, torrents included. */
  revoked?: boolean;
}

export class Model {
  files = new Map<string, FileFacts>();
  dirs = new Set<string>();
  wants = new Map<Device, Set<string>>([
    ['alpha', new Set()],
    ['beta', new Set()],
  ]);
  /** emptied: the NAS emptied its trash item after the retention time (checked), so it is no longer looked for. */
  destroyed: Array<{ path: string; shas: Set<Sha>; requestId: string; emptied?: boolean }> = [];
  shares = new Map<string, ShareFacts>();
  mkdirs: Array<{ parent: string; name: string }> = [];
  torrents: TorrentFacts[] = [];
  pending = new Map<string, PendingRequest>();
  /** Paths some still-open operation touches: the driver leaves them alone until the phase settles. */
  busy = new Set<string>();
  /** The same file edited on both devices this phase: after the settle both versions must exist on the NAS. */
  twoDeviceEdits: Array<{ path: string; shas: [Sha, Sha] }> = [];

  setFile(p: string, ...shas: Sha[]): void {
    this.files.set(p, { shas: new Set(shas) });
  }

  isBusy(p: string): boolean {
    for (const b of this.busy) if (b === p || p.startsWith(`${b}/`) || b.startsWith(`${p}/`)) return true;
    return false;
  }

  inActiveShare(p: string): boolean {
    for (const s of this.shares.values()) if (s.active && (s.source === p || p.startsWith(`${s.source}/`) || s.source.startsWith(`${p}/`))) return true;
    return false;
  }

  /** A revoke ends the torrents of that path and of everything under it. */
  revokeTorrents(source: string): void {
    for (const t of this.torrents) if (t.path === source || t.path.startsWith(`${source}/`)) t.revoked = true;
  }

  filesUnder(dir: string): string[] {
    return [...this.files.keys()].filter((f) => f.startsWith(`${dir}/`));
  }
}

export function sha256(buf: Buffer | string): Sha {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

export function shaOf(file: string): Sha | null {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return null;
  }
}

/** Every regular file under dir (relative path → sha256), skipping the engines' dot folders. */
export function treeShas(dir: string, skipDot = true): Map<string, Sha> {
  const out = new Map<string, Sha>();
  const walk = (rel: string) => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      if (skipDot && e.name.startsWith('.burrow')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) {
        const s = shaOf(path.join(dir, r));
        if (s) out.set(r, s);
      } else out.set(r, `<${e.isSymbolicLink() ? 'symlink' : 'other'}>`);
    }
  };
  walk('');
  return out;
}
