import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { decodeJoinString } from '../../devices/join-string.js';
import { BurrowError } from '../../errors.js';
import { Agent, lockAgentRoot } from '../../../../device-agents/agent.js';
import { agentPaths, applyOverrides, configFromJoin, loadAgentConfig, saveAgentConfig, type AgentConfig, type JoinOverrides } from '../../../../device-agents/config.js';
import { readAgentStatus, type AgentStatus } from '../../../../device-agents/status.js';
import { action, installStopSignals, report } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';

interface AgentOpts {
  root?: string;
  join?: string;
  port?: number;
  syncPort?: number;
  syncHost?: string;
  limitMb?: number | null;
  dht?: boolean;
  dhtBootstrap?: string;
  lan?: boolean;
}

function intOpt(name: string, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new BurrowError('BAD_OPTION', `${name} needs a whole number from 0 to ${max}, got "${v}".`);
    return n;
  };
}

function rootOption(): Option {
  return new Option('--root <dir>', "the device agent's folder (catalogue/ and files/ live here)").env('BURROW_AGENT_ROOT');
}

function needRoot(root: string | undefined): string {
  if (!root) throw new BurrowError('NO_AGENT_ROOT', 'Say where the agent keeps its files.', 'Pass --root <dir> (or set BURROW_AGENT_ROOT), e.g. burrow agent --root ~/Burrow --join <join-string>');
  return root;
}

/** The config to run with: from a join string (written for next time), else the saved one; flags override and are saved. */
export function resolveAgentConfig(opts: AgentOpts): AgentConfig {
  const root = needRoot(opts.root);
  const o: JoinOverrides = {
    ...(opts.port !== undefined ? { httpPort: opts.port } : {}),
    ...(opts.syncPort !== undefined ? { syncPort: opts.syncPort } : {}),
    ...(opts.syncHost !== undefined ? { syncHost: opts.syncHost } : {}),
    ...(opts.dht === false ? { dht: false } : {}),
    ...(opts.dhtBootstrap !== undefined ? { dht: true, dhtBootstrap: opts.dhtBootstrap.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(opts.lan === false ? { lan: false } : {}),
    ...(opts.limitMb !== undefined ? { storageLimitMb: opts.limitMb } : {}),
  };
  const existing = fs.existsSync(agentPaths(root).config) ? loadAgentConfig(root) : null;
  const cfg = opts.join ? configFromJoin(root, decodeJoinString(opts.join), existing, o) : applyOverrides(existing ?? loadAgentConfig(root), o);
  saveAgentConfig(cfg);
  return cfg;
}

function statusText(s: AgentStatus): string {
  const lines = [
    `device ${s.device}: agent ${s.running ? `running (pid ${s.pid}) at ${s.url}` : 'not running'}${s.running ? '' : ` (last seen ${new Date(s.updatedAt).toISOString()})`}`,
    `NAS addresses: ${s.nas.join(', ')}`,
  ];
  for (const f of s.folders) lines.push(`folder ${f.id} (${f.mode}): ${f.inSync ? 'in sync' : `${formatBytes(f.bytesLeft)} and ${f.filesLeft} files left`}, ${formatBytes(f.bytesDone)} synced`);
  lines.push(`peers: ${s.peers.length ? s.peers.map((p) => `${p.folder}↔${p.address}`).join(', ') : 'none connected'}`);
  lines.push(`bytes synced ${formatBytes(s.bytesSynced)}, left ${formatBytes(s.bytesLeft)}`);
  lines.push(`pending requests: ${s.pendingRequests.length ? s.pendingRequests.map((r) => `${r.action} ${r.path} (${r.state})`).join('; ') : 'none'}`);
  if (s.storage) lines.push(`storage: limit ${s.storage.limitBytes === null ? 'none' : formatBytes(s.storage.limitBytes)}, used ${formatBytes(s.storage.usedBytes)}, free ${formatBytes(s.storage.freeBytes)}`);
  lines.push(`last error: ${s.lastError ? `${s.lastError.message} (${new Date(s.lastError.at).toISOString()})` : 'none'}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  const agent = program
    .command('agent')
    .description('run the device agent: sync catalogue/ and files/ with the NAS and serve the catalogue on 127.0.0.1')
    .addOption(rootOption())
    .option('--join <join-string>', 'join the NAS with the string "burrow device add <name>" printed (needed once)')
    .option('--port <port>', 'local web port for the catalogue (default 7422)', intOpt('--port', 65535))
    .option('--sync-port <port>', 'TCP port for sync (default 0: any free port)', intOpt('--sync-port', 65535))
    .option('--sync-host <host>', 'address the sync engine listens on (default 0.0.0.0)')
    .option('--limit-mb <MB>', 'how much this device may hold, in MB (-1: as much as is free)', (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < -1) throw new BurrowError('BAD_OPTION', `--limit-mb needs a number of MB (or -1), got "${v}".`);
      return n === -1 ? null : n;
    })
    .option('--no-dht', 'do not use the BitTorrent DHT to find the NAS')
    .option('--dht-bootstrap <host:port,...>', 'DHT bootstrap nodes (default: the public routers)')
    .option('--no-lan', 'do not look for the NAS on the local network')
    .action(
      action(async (opts: AgentOpts) => {
        if (opts.join) decodeJoinString(opts.join); // a bad string is refused before anything is made on disk
        const lock = lockAgentRoot(needRoot(opts.root));
        const cfg = resolveAgentConfig(opts);
        const signals = installStopSignals();
        const a = new Agent(cfg, { log: (m) => process.stderr.write(`${m}\n`) });
        await a.open();
        process.stdout.write(`Burrow agent for device ${cfg.device} in ${a.paths.root}\ncatalogue: ${a.url}\n`);
        const sig = await signals.stopped;
        process.stderr.write(`${sig}: stopping the agent\n`);
        await a.close().catch(() => undefined);
        lock.release();
        signals.dispose();
      }),
    );
  agent
    .command('status')
    .description('folders, peers, bytes synced and left, pending requests and the last error of a device agent')
    .addOption(rootOption())
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; json?: boolean }, cmd: Command) => {
        const root = needRoot(opts.root ?? (cmd.parent?.opts() as { root?: string } | undefined)?.root);
        const cfg = loadAgentConfig(root);
        const s = readAgentStatus(root);
        if (!s) {
          report(opts.json, { running: false, device: cfg.device, root: agentPaths(root).root, folders: [], peers: [], bytesSynced: 0, bytesLeft: 0, pendingRequests: [], lastError: null }, () => `device ${cfg.device}: the agent has not run yet in ${agentPaths(root).root}`);
          return;
        }
        report(opts.json, s, () => statusText(s));
      }),
    );
}
