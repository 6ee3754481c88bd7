import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { addDevice, cli, freePort, startAgent, startNas, stopProc, waitFor, REPO, type AgentHandle, type NasHandle, type Proc } from '../../test/agent/harness.js';
import { NetnsLink } from './netns-link.js';

/**
 * The household the soak runs: a NAS (nightly jobs on a seconds schedule), two device agents and a
 * friend's bare `burrow sync` on a read-only share, all real processes on 127.0.0.1, each in its
 * own root under one base folder. Any of them can be killed with SIGKILL and started again.
 *
 * With a NetnsLink, beta lives in its own network namespace behind a veth pair (its "home
 * network"), so the soak can cut it off the NAS; the NAS's sync engine then listens on the host
 * end's address instead of 127.0.0.1, and everyone else reaches it there.
 */
export type Who = 'nas' | 'alpha' | 'beta' | 'friend';
export const DEVICES = ['alpha', 'beta'] as const;
export type Device = (typeof DEVICES)[number];
/** The device behind the veth link when network cuts are on. */
export const CUT_DEVICE: Device = 'beta';
/** beta's local API port inside its namespace (fixed: a restart must keep the forwarder's target). */
const NS_AGENT_PORT = 7422;

export class Household {
  nas!: NasHandle;
  agents = new Map<Device, AgentHandle>();
  friend: Proc | null = null;
  friendSecret = '';
  syncPort = 0;
  private starting = new Map<Who, Promise<void>>();
  /** Set when a failure is reported: a fault's pending restart must not bring a process back. */
  frozen = false;
  readonly log: string[] = [];

  constructor(
    readonly base: string,
    readonly link: NetnsLink | null = null,
  ) {}

  /** Where the processes on the host and in the namespace reach the NAS's sync engine. */
  get syncHost(): string {
    return this.link ? this.link.hostIp : '127.0.0.1';
  }
  get apiSocket(): string {
    return path.join(this.base, 'beta-api.sock');
  }
  private inNs(d: Device): boolean {
    return !!this.link && d === CUT_DEVICE;
  }
  private startDevice(d: Device, join?: string): Promise<AgentHandle> {
    return this.inNs(d) ? startAgent(this.agentRoot(d), join, NS_AGENT_PORT, this.link!.ns) : startAgent(this.agentRoot(d), join);
  }

  get nasRoot(): string {
    return path.join(this.base, 'nas');
  }
  agentRoot(d: Device): string {
    return path.join(this.base, d);
  }
  get friendDir(): string {
    return path.join(this.base, 'friend');
  }
  nasToken(): string {
    return fs.readFileSync(path.join(this.nasRoot, '.burrow', 'api-token'), 'utf8').trim();
  }

  /** `burrow init` with loopback-only sync and the jobs every few seconds, then start everything. */
  async init(seedStore: (filesDir: string) => void, trashRetentionDays: number): Promise<void> {
    this.syncPort = await freePort();
    const r = cli(['init', '--root', this.nasRoot]);
    if (r.status !== 0) throw new Error(`init failed: ${r.stderr}`);
    const cfgFile = path.join(this.nasRoot, '.burrow', 'config.yaml');
    const cfg = fs
      .readFileSync(cfgFile, 'utf8')
      .replace(/^( {2}host:) 0\.0\.0\.0$/m, `$1 ${this.syncHost}`)
      // The torrent listener (web seed) on loopback and a free port, never 0.0.0.0:7425.
      .replace(/^( {2}host:) 0\.0\.0\.0$/m, '$1 127.0.0.1')
      .replace(/^( {2}port:) 7425$/m, `$1 ${await freePort()}`)
      .replace(/^( {2}port:) 7421$/m, `$1 ${this.syncPort}`)
      .replace(/^( {2}dht:) true$/m, '$1 false')
      .replace(/^( {2}lan:) true$/m, '$1 false')
      .replace(/^( {2}debounceMs:) 300$/m, '$1 50')
      .replace(/^( {2}dedupeSchedule:) .*$/m, '$1 "*/20 * * * * *"')
      .replace(/^( {2}balanceSchedule:) .*$/m, '$1 "*/30 * * * * *"')
      .replace(/^( {2}retentionDays:) 7$/m, `$1 ${trashRetentionDays}`);
    if (!cfg.includes('*/20 * * * * *') || !cfg.includes(`retentionDays: ${trashRetentionDays}`) || /^ {2}host: 0\.0\.0\.0$/m.test(cfg)) throw new Error('could not set the soak settings in config.yaml');
    fs.writeFileSync(cfgFile, cfg);
    seedStore(path.join(this.nasRoot, 'files'));
    this.nas = await startNas(this.nasRoot, { syncPort: this.syncPort });
    const joins = new Map<Device, string>(DEVICES.map((d) => [d, addDevice(this.nasRoot, d)]));
    if (this.link) this.link.forward(this.apiSocket, NS_AGENT_PORT);
    await Promise.all(DEVICES.map(async (d) => this.agents.set(d, await this.startDevice(d, joins.get(d)))));
    for (const d of DEVICES)
      await waitFor(`${d}'s first catalogue`, () => fs.existsSync(path.join(this.agentRoot(d), 'catalogue', 'data', 'index.js')) && fs.existsSync(path.join(this.agentRoot(d), 'files', '.burrow', 'device.js')), 90_000, 100);
  }

  async startFriend(secret: string): Promise<void> {
    this.friendSecret = secret;
    fs.mkdirSync(this.friendDir, { recursive: true });
    const args = [path.join(REPO, 'bin', 'burrow.js'), 'sync', '--secret', secret, '--dir', this.friendDir, '--host', '127.0.0.1', '--peer', `${this.syncHost}:${this.syncPort}`, '--no-dht'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BURROW_LOG_LEVEL: 'warn' } });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    this.friend = { child, out: () => out, err: () => err };
  }

  alive(who: Who): boolean {
    const p = this.proc(who);
    return !!p && p.child.exitCode === null && p.child.signalCode === null;
  }

  proc(who: Who): Proc | null {
    if (who === 'nas') return this.nas;
    if (who === 'friend') return this.friend;
    return this.agents.get(who) ?? null;
  }

  async kill(who: Who): Promise<void> {
    const p = this.proc(who);
    if (p && this.alive(who)) {
      this.log.push(`${new Date().toISOString()} kill -9 ${who} (pid ${p.child.pid})`);
      await stopProc(p, 'SIGKILL');
    }
  }

  /** Start a dead process again (one start at a time per process). */
  restart(who: Who): Promise<void> {
    if (this.alive(who) || this.frozen) return Promise.resolve();
    const running = this.starting.get(who);
    if (running) return running;
    const dead = this.proc(who);
    if (dead && dead.child.signalCode !== 'SIGKILL') {
      // Not our kill -9: it exited by itself. Say how, with the end of what it wrote.
      const tail = dead.err().trim().split('\n').slice(-6).join(' | ').slice(-800);
      this.log.push(`${new Date().toISOString()} ${who} EXITED BY ITSELF (code ${dead.child.exitCode}, signal ${dead.child.signalCode}): ${tail}`);
      this.selfExits.push(`${who}: code ${dead.child.exitCode}, signal ${dead.child.signalCode}: ${tail}`);
      process.stdout.write(`soak: ${who} EXITED BY ITSELF (code ${dead.child.exitCode}, signal ${dead.child.signalCode}); restarting it. Its last words: ${tail}\n`);
    }
    const p = (async () => {
      // A killed process may leave its port in TIME_WAIT or a lock a moment; retry a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          if (who === 'nas') this.nas = await startNas(this.nasRoot, { syncPort: this.syncPort });
          else if (who === 'friend') await this.startFriend(this.friendSecret);
          else this.agents.set(who, await this.startDevice(who));
          this.log.push(`${new Date().toISOString()} restarted ${who}`);
          return;
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    })().finally(() => this.starting.delete(who));
    this.starting.set(who, p);
    return p;
  }

  /** Processes that exited without being killed (a crash): how, and their last words. */
  selfExits: string[] = [];

  async restartAll(): Promise<void> {
    await Promise.all((['nas', 'alpha', 'beta', 'friend'] as Who[]).filter((w) => w !== 'friend' || this.friendSecret).map((w) => this.restart(w)));
  }

  async stopAll(): Promise<void> {
    await stopProc(this.friend);
    await Promise.all([...this.agents.values()].map((a) => stopProc(a)));
    await stopProc(this.nas);
  }

  // --- talking to the processes ---

  async nasGet<T>(p: string): Promise<{ status: number; json: T | null }> {
    const res = await fetch(new URL(p, this.nas.url), { headers: { authorization: `Bearer ${this.nasToken()}` }, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as T) : null };
  }

  async nasPost<T>(p: string, body: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(new URL(p, this.nas.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${this.nasToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, json: (await res.json()) as T };
  }

  /** POST a catalogue request to a device agent's local API, as its page would. */
  async agentRequest(d: Device, body: { id: string; action: string; path: string; args: Record<string, unknown> }): Promise<number> {
    const a = this.agents.get(d)!;
    const headers = { 'content-type': 'application/json', 'x-burrow-token': a.token() };
    const json = JSON.stringify({ ...body, device: d, confirm: true });
    if (this.inNs(d)) return (await NetnsLink.request(this.apiSocket, 'POST', '/api/requests', { ...headers, host: `127.0.0.1:${NS_AGENT_PORT}` }, json, 10_000)).status;
    const res = await fetch(`${a.url}api/requests`, { method: 'POST', headers, body: json, signal: AbortSignal.timeout(10_000) });
    await res.text();
    return res.status;
  }
}
