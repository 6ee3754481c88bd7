import fs from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { AgentConfig } from './config-schema.js';
import { validate as generatedValidate } from './validate-config.generated.js';
import { BurrowError } from '../server/src/errors.js';
import type { JoinPayload } from '../server/src/devices/join-string.js';

/**
 * The agent's config file, <root>/.burrow-agent/config.json (mode 0600: it holds the device's
 * secrets). `burrow agent --join` writes it; every later start reads it, so the join string
 * is needed once. Every key is checked; a bad file is refused with the key that is wrong.
 */
export const DEFAULT_AGENT_PORT = 7422;

export type { AgentConfig } from './config-schema.js';

/** ajv's validator for AgentConfigSchema, compiled ahead of time (scripts/config-validator-source.ts). */
const validate = generatedValidate as ValidateFunction<AgentConfig>;

export interface AgentPaths {
  root: string;
  catalogue: string;
  files: string;
  /** files/.burrow: what syncs to the NAS's devices/<d>/.burrow/ */
  meta: string;
  worklist: string;
  report: string;
  state: string;
  config: string;
  token: string;
  status: string;
  syncState: string;
  tmp: string;
}

export function agentPaths(root: string): AgentPaths {
  const abs = path.resolve(root);
  const state = path.join(abs, '.burrow-agent');
  const files = path.join(abs, 'files');
  const meta = path.join(files, '.burrow');
  return {
    root: abs,
    catalogue: path.join(abs, 'catalogue'),
    files,
    meta,
    worklist: path.join(meta, 'worklist.jsonl'),
    report: path.join(meta, 'agent-report.json'),
    state,
    config: path.join(state, 'config.json'),
    token: path.join(state, 'token'),
    status: path.join(state, 'status.json'),
    syncState: path.join(state, 'sync'),
    tmp: path.join(state, 'tmp'),
  };
}

function badConfig(file: string, detail: string): BurrowError {
  return new BurrowError('BAD_AGENT_CONFIG', `The agent config ${file} is invalid: ${detail}`, 'Fix that key, or join again with: burrow agent --root <dir> --join <join-string>');
}

export function parseAgentConfig(text: string, file: string): AgentConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw badConfig(file, `it is not JSON (${(err as Error).message})`);
  }
  if (!validate(doc)) {
    const e = validate.errors?.[0];
    throw badConfig(file, `${e?.instancePath || '(top level)'} ${e?.message ?? 'is wrong'}`);
  }
  return doc;
}

export function loadAgentConfig(root: string): AgentConfig {
  const p = agentPaths(root);
  let text: string;
  try {
    text = fs.readFileSync(p.config, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BurrowError('AGENT_NOT_JOINED', `${p.root} is not a Burrow device yet (no ${p.config}).`, 'Join it once with: burrow agent --root <dir> --join <join-string>  (the NAS prints it with "burrow device add <name>")');
    }
    throw err;
  }
  const cfg = parseAgentConfig(text, p.config);
  if (path.resolve(cfg.root) !== p.root) throw badConfig(p.config, `"root" is ${cfg.root} but the file lives under ${p.root}`);
  return cfg;
}

export function saveAgentConfig(cfg: AgentConfig): void {
  const p = agentPaths(cfg.root);
  if (!validate(cfg)) throw badConfig(p.config, validate.errors?.[0]?.message ?? 'invalid');
  fs.mkdirSync(p.state, { recursive: true, mode: 0o700 });
  const tmp = `${p.config}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, p.config);
}

export interface JoinOverrides {
  httpPort?: number;
  syncPort?: number;
  syncHost?: string;
  dht?: boolean;
  dhtBootstrap?: string[];
  lan?: boolean;
  storageLimitMb?: number | null;
}

/**
 * The config after a join: a new device gets defaults; an existing one keeps its settings and
 * takes the new secrets and addresses, but only from the NAS it joined first.
 */
export function configFromJoin(root: string, join: JoinPayload, existing: AgentConfig | null, o: JoinOverrides = {}): AgentConfig {
  if (existing && existing.nasKey !== join.nasKey) {
    throw new BurrowError(
      'JOIN_OTHER_NAS',
      `This join string comes from a different NAS than the one ${path.resolve(root)} joined before.`,
      'Use a new, empty --root for the other NAS, or move the old root aside first.',
    );
  }
  if (existing && existing.device !== join.device) {
    throw new BurrowError('JOIN_OTHER_DEVICE', `${path.resolve(root)} is the device "${existing.device}", but this join string is for "${join.device}".`, 'Use a new, empty --root for the other device.');
  }
  const base: AgentConfig = existing ?? {
    v: 1,
    root: path.resolve(root),
    device: join.device,
    deviceSecret: join.deviceSecret,
    catalogueSecret: join.catalogueSecret,
    nasKey: join.nasKey,
    nas: { addresses: join.addresses },
    http: { host: '127.0.0.1', port: DEFAULT_AGENT_PORT },
    sync: { host: '0.0.0.0', port: 0, dht: true, dhtBootstrap: [], lan: true },
    storageLimitMb: null,
  };
  return applyOverrides({ ...base, deviceSecret: join.deviceSecret, catalogueSecret: join.catalogueSecret, nas: { addresses: join.addresses } }, o);
}

export function applyOverrides(cfg: AgentConfig, o: JoinOverrides): AgentConfig {
  return {
    ...cfg,
    http: { ...cfg.http, ...(o.httpPort !== undefined ? { port: o.httpPort } : {}) },
    sync: {
      ...cfg.sync,
      ...(o.syncPort !== undefined ? { port: o.syncPort } : {}),
      ...(o.syncHost !== undefined ? { host: o.syncHost } : {}),
      ...(o.dht !== undefined ? { dht: o.dht } : {}),
      ...(o.dhtBootstrap !== undefined ? { dhtBootstrap: o.dhtBootstrap } : {}),
      ...(o.lan !== undefined ? { lan: o.lan } : {}),
    },
    ...(o.storageLimitMb !== undefined ? { storageLimitMb: o.storageLimitMb } : {}),
  };
}
