import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fsutil/atomic-write.js';
import type { MemberFacts, MemberUsage } from '../store/members-repo.js';

/**
 * The ledger: `.burrow/cluster/`, a folder the members sync among themselves (its own secret;
 * devices never see it). **Every file in it has exactly one writer**, the member named in it, so
 * the sync engine never has two versions of one file to reconcile:
 *
 *   members/<member>.json                 a member describes itself (addresses, zone, sync id, usage)
 *   devices/<device>.json                 a device registered on some member: its name, limit, folder secret
 *   claims/<device>/<request>/<member>    "member started running this request" (written before it runs)
 *   results/<device>/<request>/<member>   "... and this is how it ended" (state, reason, result)
 *   removed/<member>/<by>                 "member <by> removed <member> from the group" (`burrow nas remove`)
 *
 * A request's effect is decided by the results: when more than one member ran it (two members
 * each cut off with the device), the member with the lowest id wins and the others' results are
 * kept beside it, never merged.
 */
export const LEDGER_DIR = path.join('.burrow', 'cluster');

export interface LedgerMember extends MemberFacts {
  /** the member's sync engine device id, so a link on the ledger folder names the member */
  syncDevice?: string;
  usage?: MemberUsage;
}

/** Removed member id → who removed it and when. */
export type Removals = Map<string, { by: string; at: number }>;

export interface LedgerDevice {
  name: string;
  quotaBytes: number | null;
  secret: string;
  addedBy: string;
  at: number;
}

export interface LedgerResult {
  member: string;
  state: 'done' | 'failed';
  reason: string | null;
  result: string | null;
  at: number;
}

const SAFE = /^[A-Za-z0-9._-]{1,128}$/;
const isEntry = (n: string): boolean => SAFE.test(n) && n !== '.' && n !== '..' && !n.startsWith('.burrow');

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // not there yet, or half-synced: read again next time
  }
}

function names(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter(isEntry);
  } catch {
    return [];
  }
}

export class Ledger {
  readonly dir: string;
  constructor(root: string) {
    this.dir = path.join(root, LEDGER_DIR);
  }

  private write(rel: string, value: unknown): void {
    writeFileAtomic(path.join(this.dir, rel), JSON.stringify(value, null, 1) + '\n', { skipIfSame: true });
  }

  members(): LedgerMember[] {
    return names(path.join(this.dir, 'members'))
      .filter((n) => n.endsWith('.json'))
      .map((n) => readJson<LedgerMember>(path.join(this.dir, 'members', n)))
      .filter((m): m is LedgerMember => !!m && typeof m.id === 'string' && `${m.id}.json` !== '' && Array.isArray(m.addresses));
  }

  /** Each member's sync engine device id, by member id (undefined until it described itself). */
  syncDevices(): Map<string, string | undefined> {
    return new Map(this.members().map((m) => [m.id, m.syncDevice]));
  }

  writeMember(m: LedgerMember): void {
    this.write(`members/${m.id}.json`, m);
  }

  devices(): LedgerDevice[] {
    return names(path.join(this.dir, 'devices'))
      .filter((n) => n.endsWith('.json'))
      .map((n) => readJson<LedgerDevice>(path.join(this.dir, 'devices', n)))
      .filter((d): d is LedgerDevice => !!d && typeof d.name === 'string' && typeof d.secret === 'string');
  }

  writeDevice(d: LedgerDevice): void {
    this.write(`devices/${d.name}.json`, d);
  }

  claims(device: string, request: string): Array<{ member: string; at: number }> {
    if (!SAFE.test(device) || !SAFE.test(request)) return [];
    const dir = path.join(this.dir, 'claims', device, request);
    return names(dir)
      .map((n) => readJson<{ member: string; at: number }>(path.join(dir, n)))
      .filter((c): c is { member: string; at: number } => !!c && typeof c.member === 'string');
  }

  claim(device: string, request: string, member: string, at: number): void {
    this.write(`claims/${device}/${request}/${member}.json`, { member, at });
  }

  results(device: string, request: string): LedgerResult[] {
    if (!SAFE.test(device) || !SAFE.test(request)) return [];
    const dir = path.join(this.dir, 'results', device, request);
    return names(dir)
      .map((n) => readJson<LedgerResult>(path.join(dir, n)))
      .filter((r): r is LedgerResult => !!r && typeof r.member === 'string' && (r.state === 'done' || r.state === 'failed'));
  }

  writeResult(device: string, request: string, r: LedgerResult): void {
    this.write(`results/${device}/${request}/${r.member}.json`, r);
  }

  /** The members some member removed from the group, with who removed them. */
  removed(): Removals {
    const out: Removals = new Map();
    for (const member of names(path.join(this.dir, 'removed')))
      for (const n of names(path.join(this.dir, 'removed', member))) {
        const r = readJson<{ by: string; at: number }>(path.join(this.dir, 'removed', member, n));
        if (r && typeof r.by === 'string' && !out.has(member)) out.set(member, { by: r.by, at: Number(r.at) || 0 });
      }
    return out;
  }

  writeRemoved(member: string, by: string, at: number): void {
    this.write(`removed/${member}/${by}.json`, { member, by, at });
  }

  /** Every (device, request) some member ran, with who ran it: for "no request ran twice". */
  runs(): Array<{ device: string; request: string; members: string[] }> {
    const out: Array<{ device: string; request: string; members: string[] }> = [];
    for (const device of names(path.join(this.dir, 'results')))
      for (const request of names(path.join(this.dir, 'results', device)))
        out.push({ device, request, members: names(path.join(this.dir, 'results', device, request)).map((n) => n.replace(/\.json$/, '')) });
    return out;
  }
}

/** The result that stands when several members ran one request: the lowest member id's. */
export function winningResult(results: LedgerResult[]): LedgerResult | undefined {
  return [...results].sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))[0];
}
