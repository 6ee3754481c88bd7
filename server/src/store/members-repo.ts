import type { Db } from './db.js';

export interface MemberRow {
  id: string;
  name: string;
  addresses: string[];
  zone: string;
  is_self: boolean;
  joined_at: number;
  last_reachable_at: number | null;
  held_files: number | null;
  held_bytes: number | null;
  free_bytes: number | null;
  disk_full: boolean;
  reported_at: number | null;
}

type Raw = Omit<MemberRow, 'addresses' | 'is_self' | 'disk_full'> & { addresses: string; is_self: number; disk_full: number };
const fromRaw = (r: Raw): MemberRow => ({ ...r, addresses: JSON.parse(r.addresses) as string[], is_self: r.is_self === 1, disk_full: r.disk_full === 1 });

export interface MemberFacts {
  id: string;
  name: string;
  addresses: string[];
  zone: string;
  joinedAt: number;
}

export interface MemberUsage {
  heldFiles: number;
  heldBytes: number;
  freeBytes: number;
  diskFull: boolean;
  at: number;
}

/** The members of this NAS's group (migration 014), its shared secrets and the member availability log. */
export class MembersRepo {
  constructor(readonly db: Db) {}

  list(): MemberRow[] {
    return (this.db.prepare('SELECT * FROM nas_members ORDER BY id').all() as Raw[]).map(fromRaw);
  }

  get(id: string): MemberRow | undefined {
    const r = this.db.prepare('SELECT * FROM nas_members WHERE id = ?').get(id) as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  self(): MemberRow | undefined {
    const r = this.db.prepare('SELECT * FROM nas_members WHERE is_self = 1').get() as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  /** Insert or refresh what a member says about itself; what this NAS observed is kept. */
  upsert(m: MemberFacts, isSelf = false): void {
    this.db
      .prepare(
        `INSERT INTO nas_members (id, name, addresses, zone, is_self, joined_at) VALUES (@id, @name, @addresses, @zone, @is_self, @joined_at)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, addresses = excluded.addresses, zone = excluded.zone`,
      )
      .run({ id: m.id, name: m.name, addresses: JSON.stringify(m.addresses), zone: m.zone, is_self: isSelf ? 1 : 0, joined_at: m.joinedAt });
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM nas_members WHERE id = ? AND is_self = 0').run(id).changes > 0;
  }

  setUsage(id: string, u: MemberUsage): void {
    this.db
      .prepare('UPDATE nas_members SET held_files = ?, held_bytes = ?, free_bytes = ?, disk_full = ?, reported_at = ? WHERE id = ?')
      .run(u.heldFiles, u.heldBytes, u.freeBytes, u.diskFull ? 1 : 0, u.at, id);
  }

  /** A live link to the member now: the last-reachable time, and the availability stretch it extends. */
  markReachable(id: string, now: number, gapMs: number): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE nas_members SET last_reachable_at = ? WHERE id = ?').run(now, id);
      const last = this.db.prepare('SELECT up_from, up_to FROM nas_member_availability WHERE member = ? ORDER BY up_from DESC LIMIT 1').get(id) as { up_from: number; up_to: number } | undefined;
      if (last && now - last.up_to <= gapMs) this.db.prepare('UPDATE nas_member_availability SET up_to = ? WHERE member = ? AND up_from = ?').run(now, id, last.up_from);
      else this.db.prepare('INSERT OR REPLACE INTO nas_member_availability (member, up_from, up_to) VALUES (?, ?, ?)').run(id, now, now);
    })();
  }

  availability(id: string, since: number): Array<{ from: number; to: number }> {
    return (this.db.prepare('SELECT up_from AS "from", up_to AS "to" FROM nas_member_availability WHERE member = ? AND up_to >= ? ORDER BY up_from').all(id, since) as Array<{ from: number; to: number }>);
  }

  pruneAvailability(before: number): number {
    return this.db.prepare('DELETE FROM nas_member_availability WHERE up_to < ?').run(before).changes;
  }

  secret(key: 'store' | 'ledger'): string | undefined {
    return this.db.prepare('SELECT value FROM nas_cluster WHERE key = ?').pluck().get(key) as string | undefined;
  }

  setSecret(key: 'store' | 'ledger', value: string): void {
    this.db.prepare('INSERT INTO nas_cluster (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
