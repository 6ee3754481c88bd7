import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cli, waitFor } from '../agent/harness.js';

export const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: 'inherit' });
};
const quiet = (...args: string[]): void => {
  try {
    execFileSync('ip', args, { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
};

/**
 * Zones as network namespaces: a router namespace forwards between one namespace per member
 * (10.<s>.<n>.2/24, so zone 10.<s>.<n>) and the test's own namespace (10.<s>.0.1, where the device
 * agent runs). Forwarding is switched on inside the router namespace only.
 */
export class Zones {
  readonly router: string;
  private made: string[] = [];
  private hostLink: string;
  constructor(readonly tag: string, readonly s: number) {
    this.router = `bmr-${tag}`;
    this.hostLink = `bmh${tag}`;
    ip('netns', 'add', this.router);
    this.made.push(this.router);
    ip('-n', this.router, 'link', 'set', 'lo', 'up');
    execFileSync('ip', ['netns', 'exec', this.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    ip('link', 'add', this.hostLink, 'type', 'veth', 'peer', 'name', `bmx${tag}`);
    ip('link', 'set', `bmx${tag}`, 'netns', this.router);
    ip('addr', 'add', `10.${s}.0.1/24`, 'dev', this.hostLink);
    ip('-n', this.router, 'addr', 'add', `10.${s}.0.2/24`, 'dev', `bmx${tag}`);
    ip('link', 'set', this.hostLink, 'up');
    ip('-n', this.router, 'link', 'set', `bmx${tag}`, 'up');
    ip('route', 'add', `10.${s}.0.0/16`, 'via', `10.${s}.0.2`);
  }

  /** A member namespace in zone 10.<s>.<n>; returns its name and address. */
  member(n: number): { ns: string; addr: string; link: string } {
    const ns = `bm${n}-${this.tag}`;
    const link = `bm${n}m${this.tag}`;
    ip('netns', 'add', ns);
    this.made.push(ns);
    ip('link', 'add', `bm${n}r${this.tag}`, 'type', 'veth', 'peer', 'name', link);
    ip('link', 'set', `bm${n}r${this.tag}`, 'netns', this.router);
    ip('link', 'set', link, 'netns', ns);
    ip('-n', this.router, 'addr', 'add', `10.${this.s}.${n}.1/24`, 'dev', `bm${n}r${this.tag}`);
    ip('-n', ns, 'addr', 'add', `10.${this.s}.${n}.2/24`, 'dev', link);
    ip('-n', this.router, 'link', 'set', `bm${n}r${this.tag}`, 'up');
    ip('-n', ns, 'link', 'set', link, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', `10.${this.s}.${n}.1`);
    return { ns, addr: `10.${this.s}.${n}.2`, link };
  }

  /** Cut (or restore) a member's only link, as an ISP cutting the zone would. */
  setLink(m: { ns: string; link: string }, up: boolean): void {
    ip('-n', m.ns, 'link', 'set', m.link, up ? 'up' : 'down');
    if (up) quiet('-n', m.ns, 'route', 'add', 'default', 'via', m.link.replace(/^bm(\d+)m.*$/, (_x, n: string) => `10.${this.s}.${n}.1`));
  }

  destroy(): void {
    quiet('link', 'del', this.hostLink);
    for (const ns of this.made.reverse()) quiet('netns', 'del', ns);
  }
}

/** `burrow init` a member root whose engine listens on every address of its namespace at `port`. */
export function prepareMember(root: string, o: { port: number; publicHost: string; zone?: string }): void {
  const r = cli(['init', '--root', root]);
  if (r.status !== 0) throw new Error(`init failed: ${r.stderr}`);
  const cfgFile = path.join(root, '.burrow', 'config.yaml');
  const cfg = fs
    .readFileSync(cfgFile, 'utf8')
    .replace(/^( {2}publicAddresses:) \[\]$/m, `$1 ["${o.publicHost}:${o.port}"]`)
    .replace(/^( {2}port:) 7421$/m, `$1 ${o.port}`)
    .replace(/^( {2}dht:) true$/m, '$1 false')
    .replace(/^( {2}lan:) true$/m, '$1 false')
    .replace(/^( {2}debounceMs:) 300$/m, '$1 50')
    .replace(/^( {2}minFreeMb:) 1024$/m, '$1 0')
    .replace(/^( {2}zone:) ""$/m, `$1 "${o.zone ?? ''}"`);
  fs.writeFileSync(cfgFile, cfg);
}

export function invite(root: string): string {
  const r = cli(['nas', 'invite', '--root', root, '--json']);
  if (r.status !== 0) throw new Error(`nas invite failed: ${r.stdout}${r.stderr}`);
  return (JSON.parse(r.stdout) as { join: string }).join;
}

export function join(root: string, s: string): void {
  const r = cli(['nas', 'join', s, '--root', root, '--json']);
  if (r.status !== 0) throw new Error(`nas join failed: ${r.stdout}${r.stderr}`);
}

export interface ListedMember {
  id: string;
  self: boolean;
  zone: string;
  lastReachableAt: number | null;
  heldFiles: number | null;
  diskFull: boolean;
}

export interface ListedPlacement {
  required: number;
  files: number;
  under: number;
  samples: string[];
  folders: Array<{ path: string; files: number; bytes: number; zones: string[]; under: number }>;
}

export function nasList(root: string): { members: ListedMember[]; zones: string[]; requiredZones: number; zonesHoldingAll: string[]; placement: ListedPlacement | null; warnings: string[] } {
  const r = cli(['nas', 'list', '--root', root, '--json']);
  if (r.status !== 0) throw new Error(`nas list failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof nasList>;
}

/** Which members wrote a result for each request, from a member's ledger. */
export function ledgerRuns(root: string): Map<string, string[]> {
  const dir = path.join(root, '.burrow', 'cluster', 'results');
  const out = new Map<string, string[]>();
  if (!fs.existsSync(dir)) return out;
  for (const d of fs.readdirSync(dir))
    for (const req of fs.readdirSync(path.join(dir, d))) out.set(`${d}/${req}`, fs.readdirSync(path.join(dir, d, req)).filter((n) => n.endsWith('.json')));
  return out;
}

/** Files under files/ (the sync engine's own folder left out), relative, sorted. */
export function storeFiles(root: string): string[] {
  const base = path.join(root, 'files');
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(base, rel), { withFileTypes: true })) {
      if (e.name === '.burrow-sync') continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk('');
  return out.sort();
}

export async function requestVia(agentUrl: string, token: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${agentUrl}api/requests`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Burrow-Token': token }, body: JSON.stringify({ args: {}, confirm: true, ...body }) });
  if (res.status !== 202) throw new Error(`request refused: ${res.status} ${await res.text()}`);
}

export { waitFor };
