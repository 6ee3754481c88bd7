import fs from 'node:fs';
import path from 'node:path';
import { fillToLastByte } from '../../test/helpers/small-disk.js';
import type { Driver } from './driver.js';
import { CUT_DEVICE } from './household.js';
import type { NetnsLink } from './netns-link.js';
import type { FaultWho } from './ops.js';

/**
 * kill -9 (restart after a down time), a full disk (a ballast file fills the tmpfs to the last
 * byte) and a network cut between the NAS and beta. A fault starts when fired and ends on its own
 * timer, so the driver's steps go on meanwhile, as a user's would.
 */
export class Faults {
  /** While the disk is full, the driver's own writes pause: a half-written file would make the model lie. */
  diskFull = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly kills = new Set<Promise<void>>();

  constructor(
    private readonly drv: Driver,
    readonly onTmpfs: boolean,
    readonly link: NetnsLink | null,
  ) {}

  kinds(): FaultWho[] {
    const out: FaultWho[] = ['nas', 'alpha', 'beta', 'friend'];
    if (this.onTmpfs) out.push('disk');
    if (this.link) out.push('cut', 'cut');
    return out;
  }

  /** False when it cannot start (the disk already full, the link already cut, or no tmpfs/netns here). */
  fire(who: FaultWho, downMs: number): boolean {
    const { drv } = this;
    const hh = drv.hh;
    if (who === 'disk') {
      if (this.diskFull || !this.onTmpfs) return false;
      drv.stats.diskFulls++;
      drv.note(`FAULT disk full for ${downMs} ms`);
      this.diskFull = true;
      fillToLastByte(this.ballast());
      hh.log.push(`${new Date().toISOString()} disk full`);
      this.timers.push(setTimeout(() => this.emptyDisk(), downMs));
      return true;
    }
    if (who === 'cut') {
      const link = this.link;
      if (!link || link.cut) return false;
      drv.stats.cuts++;
      drv.note(`FAULT network cut between the NAS and ${CUT_DEVICE} for ${downMs} ms`);
      link.down();
      hh.log.push(`${new Date().toISOString()} network cut (${CUT_DEVICE})`);
      this.timers.push(setTimeout(() => this.restoreLink(), downMs));
      return true;
    }
    drv.stats.kills++;
    drv.note(`FAULT kill -9 ${who}, restart after ${downMs} ms`);
    const kill = hh.kill(who).then(() => {
      // Anything in flight now has an unknown outcome: the model says "either" (settled later).
      this.timers.push(setTimeout(() => void hh.restart(who).then(() => drv.stats.restarts++, () => undefined), downMs));
    });
    this.kills.add(kill);
    void kill.finally(() => this.kills.delete(kill));
    return true;
  }

  /**
   * End every fault once the kills under way have landed: a replay reaches a phase end moments
   * after a kill, and a kill landing after the settle's restarts would leave the process dead.
   */
  async end(): Promise<void> {
    await Promise.all([...this.kills].map((k) => k.catch(() => undefined)));
    this.stop();
  }

  /** End every fault now (a phase ends, or a failure is being reported). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.emptyDisk();
    this.restoreLink();
  }

  /** A replayed write waits for room instead of being skipped: skipping would change what it reproduces. */
  async room(): Promise<void> {
    while (this.diskFull) await new Promise((r) => setTimeout(r, 100));
  }

  private ballast(): string {
    return path.join(this.drv.base, 'ballast');
  }
  private emptyDisk(): void {
    if (!this.diskFull) return;
    fs.rmSync(this.ballast(), { force: true });
    this.diskFull = false;
    this.drv.hh.log.push(`${new Date().toISOString()} disk has room again`);
  }
  private restoreLink(): void {
    if (!this.link?.cut) return;
    this.link.up();
    this.drv.hh.log.push(`${new Date().toISOString()} network restored (${CUT_DEVICE})`);
  }
}
