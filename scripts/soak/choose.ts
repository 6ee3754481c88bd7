import fs from 'node:fs';
import path from 'node:path';
import type { Driver } from './driver.js';
import { DEVICES, type Device } from './household.js';
import { shaOf } from './model.js';
import { joinPath, type FaultWho, type OpBody } from './ops.js';

/**
 * The chooser: the only user of the run's PRNG after setup. It looks at the model (and the disk)
 * and returns the next op as data, or null for "nothing to do"; execute.ts performs it. File
 * contents are a size and a content seed drawn here, so the op alone can write them again.
 */
export const FRIEND_SRC = 'friend-src';
type ChooseFn = (d: Device) => OpBody | null;

export class Chooser {
  private readonly acts: Array<[number, string, ChooseFn]>;
  private readonly total: number;

  constructor(
    private readonly drv: Driver,
    private readonly rnd: () => number,
  ) {
    this.acts = this.table();
    this.total = this.acts.reduce((a, [w]) => a + w, 0);
  }

  pick<T>(xs: readonly T[]): T | undefined {
    return xs.length ? xs[Math.floor(this.rnd() * xs.length)] : undefined;
  }
  private chance(p: number): boolean {
    return this.rnd() < p;
  }
  private seed(): number {
    return Math.floor(this.rnd() * 0x1_0000_0000);
  }
  /** Milliseconds to wait after a step. */
  pause(): number {
    return 50 + Math.floor(this.rnd() * 400);
  }

  /** The kind of the next step and its device: drawn before the disk is looked at, as before ops existed. */
  next(): { kind: string; device: Device; choose: () => OpBody | null } {
    let r = this.rnd() * this.total;
    const [, kind, choose] = this.acts.find(([w]) => (r -= w) < 0) ?? this.acts[0]!;
    const device = this.pick(DEVICES)!;
    return { kind, device, choose: () => choose(device) };
  }

  /** 0–2 faults at random moments of a phase. A cut lasts longer than a restart: long enough for open connections to time out. */
  planFaults(phaseMs: number, kinds: FaultWho[]): Array<{ at: number; who: FaultWho; downMs: number }> {
    const n = this.chance(0.25) ? 0 : this.chance(0.6) ? 1 : 2;
    const out: Array<{ at: number; who: FaultWho; downMs: number }> = [];
    for (let i = 0; i < n; i++) {
      const who = this.pick(kinds)!;
      const at = Math.floor(this.rnd() * phaseMs * 0.9);
      const downMs = who === 'cut' ? 2000 + Math.floor(this.rnd() * 25_000) : 300 + Math.floor(this.rnd() * 5000);
      // A full disk lasts twice the drawn time (0.6–10 s), as it always has.
      out.push({ at, who, downMs: who === 'disk' ? downMs * 2 : downMs });
    }
    return out;
  }

  friendRevokeContent(): number {
    return this.seed();
  }

  private table(): Array<[number, string, ChooseFn]> {
    const { drv } = this;
    const model = drv.model;
    const devFile = (d: Device, p: string) => path.join(drv.hh.agentRoot(d), 'files', p);
    const storeFile = (p: string) => path.join(drv.hh.nasRoot, 'files', p);
    const other = (d: Device): Device => (d === 'alpha' ? 'beta' : 'alpha');
    const free = (p: string) => !model.isBusy(p) && !p.startsWith(`${FRIEND_SRC}/`) && p !== FRIEND_SRC;
    const freeFiles = () => [...model.files.keys()].filter(free).sort();
    const freeDirs = () => ['', ...[...model.dirs].filter(free).sort()];
    const wanted = (d: Device) => [...model.wants.get(d)!].filter(free).sort();
    const req = (kind: OpBody['kind'], d: Device, p: string, args: Record<string, unknown> = {}, folder?: boolean): OpBody =>
      ({ kind, device: d, path: p, args, id: drv.uid(), ...(folder === undefined ? {} : { folder }) }) as OpBody;
    const torrent = (kind: 'torrent' | 'torrent-once'): ChooseFn => (d) => {
      const folder = this.chance(0.3);
      const p = folder ? this.pick(freeDirs().filter((x) => x !== '' && model.filesUnder(x).length > 0)) : this.pick(freeFiles());
      return p ? req(kind, d, p, {}, folder) : null;
    };
    return [
      [14, 'get', (d) => {
        const p = this.pick(freeFiles().filter((f) => !model.wants.get(d)!.has(f)));
        return p ? req('get', d, p) : null;
      }],
      [5, 'delete', (d) => {
        const p = this.pick(wanted(d));
        return p ? req('delete', d, p) : null;
      }],
      [4, 'destroy', (d) => {
        const p = this.pick(freeFiles().filter((f) => !model.inActiveShare(f)));
        return p ? req('destroy', d, p) : null;
      }],
      [6, 'move', (d) => {
        const p = this.pick(wanted(d).filter((f) => !model.wants.get(other(d))!.has(f)));
        return p ? req('move', d, p, { to: [other(d)] }) : null;
      }],
      [3, 'share', (d) => {
        const p = this.pick(freeFiles().filter((f) => !model.inActiveShare(f)));
        return p ? req('share', d, p) : null;
      }],
      [3, 'revoke', (d) => {
        const s = this.pick([...model.shares.values()].filter((x) => x.active && x.kind === 'file' && free(x.source)));
        return s ? req('revoke', d, s.source, { shareId: s.id }) : null;
      }],
      [3, 'share-folder', (d) => {
        const dir = this.pick(freeDirs().filter((x) => x !== '' && !model.inActiveShare(x)));
        return dir ? req('share-folder', d, dir, { limitMb: this.pick([-1, 1, 50])! }) : null;
      }],
      [2, 'revoke-share', (d) => {
        const s = this.pick([...model.shares.values()].filter((x) => x.active && x.kind === 'folder' && free(x.source)));
        return s ? req('revoke-share', d, s.source, { shareId: s.id }) : null;
      }],
      [5, 'mkdir', (d) => {
        const parent = this.pick(freeDirs().filter((x) => x.split('/').length < 3))!;
        return req('mkdir', d, parent, { name: `m${drv.phase}-${drv.step}-dir` });
      }],
      [2, 'destroy-folder', (d) => {
        const dir = this.pick(model.mkdirs.map((m) => joinPath(m.parent, m.name)).filter((x) => model.dirs.has(x) && free(x) && !model.inActiveShare(x)).sort());
        return dir ? req('destroy-folder', d, dir) : null;
      }],
      [2, 'torrent', torrent('torrent')],
      [1, 'torrent-once', torrent('torrent-once')],
      [3, 'replay', (d) => {
        // Deliver an already finished request again (as a synced worklist might): it must not run twice.
        const past = this.pick(drv.finished.filter((r) => r.device === d));
        return past ? { kind: 'replay', device: d, id: past.id, action: past.action, path: past.path, args: past.args } : null;
      }],
      // ---------- local edits on the devices ----------
      [6, 'local-new', (d) => {
        const dir = this.pick(freeDirs().filter((x) => !model.inActiveShare(x)))!;
        return { kind: 'local-new', device: d, path: joinPath(dir, `${d}-new-${drv.phase}-${drv.step}.txt`), size: 200 + Math.floor(this.rnd() * 20_000), content: this.seed() };
      }],
      [5, 'local-edit', (d) => {
        const p = this.pick(wanted(d).filter((f) => !model.inActiveShare(f)));
        if (!p || !fs.existsSync(devFile(d, p))) return null;
        return { kind: 'local-edit', device: d, path: p, size: 100 + Math.floor(this.rnd() * 10_000), content: this.seed() };
      }],
      [3, 'local-rename', (d) => {
        const p = this.pick(wanted(d).filter((f) => !model.inActiveShare(f)));
        if (!p || !fs.existsSync(devFile(d, p))) return null;
        return { kind: 'local-rename', device: d, path: p, to: `${p}.ren${drv.phase}-${drv.step}` };
      }],
      [3, 'local-delete', (d) => {
        const p = this.pick(wanted(d));
        return p && fs.existsSync(devFile(d, p)) ? { kind: 'local-delete', device: d, path: p } : null;
      }],
      [2, 'two-device-edit', () => {
        const p = this.pick(wanted('alpha').filter((f) => model.wants.get('beta')!.has(f) && !model.inActiveShare(f)));
        if (!p || !fs.existsSync(devFile('alpha', p)) || !fs.existsSync(devFile('beta', p))) return null;
        return { kind: 'two-device-edit', path: p, size: 300 + Math.floor(this.rnd() * 5000), content: this.seed(), sizeB: 300 + Math.floor(this.rnd() * 5000), contentB: this.seed() };
      }],
      // ---------- store edits on the NAS, dedupe and balance ----------
      [5, 'store-new', () => {
        const dir = this.pick(freeDirs().filter((x) => !model.inActiveShare(x)))!;
        return { kind: 'store-new', path: joinPath(dir, `store-new-${drv.phase}-${drv.step}.bin`), size: 500 + Math.floor(this.rnd() * 60_000), content: this.seed() };
      }],
      [4, 'store-edit', () => {
        const p = this.pick(freeFiles().filter((f) => !model.inActiveShare(f)));
        return p ? { kind: 'store-edit', path: p, size: 100 + Math.floor(this.rnd() * 30_000), content: this.seed() } : null;
      }],
      [3, 'store-dup', () => {
        const src = this.pick(freeFiles());
        const dir = this.pick(freeDirs().filter((x) => !model.inActiveShare(x)));
        if (!src || dir === undefined) return null;
        const s = shaOf(storeFile(src));
        if (!s || !model.files.get(src)!.shas.has(s)) return null;
        return { kind: 'store-dup', from: src, path: joinPath(dir, `dup-${drv.phase}-${drv.step}.bin`) };
      }],
      [2, 'dedupe-run', () => ({ kind: 'dedupe-run' })],
      [1, 'balance-run', () => ({ kind: 'balance-run' })],
    ];
  }
}
