import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BurrowError } from '../errors.js';

/**
 * The join string: everything a device agent needs to join a NAS, in one line a person can
 * copy or scan. `burrow1:<base64url(JSON payload)>.<base64url(Ed25519 signature)>`.
 *
 * The signature is made with the NAS key (<root>/.burrow/keys/nas-ed25519.pem) and checked
 * against the public key carried inside, so a string that was cut short, mistyped or edited
 * is refused. It does not prove *which* NAS made it (the agent has no prior knowledge of the
 * NAS): whoever holds a join string holds the device's secrets, so hand it over privately.
 * The agent pins the key on first join and refuses a join string from a different NAS later.
 */
export const JOIN_PREFIX = 'burrow1:';

export interface JoinPayload {
  /** format version */
  v: 1;
  /** device name */
  device: string;
  /** read-write secret of devices/<device>/ */
  deviceSecret: string;
  /** read-only secret of catalogue/ */
  catalogueSecret: string;
  /** host:port addresses where the NAS's sync engine listens */
  addresses: string[];
  /** NAS public key, base64url of the raw 32 bytes */
  nasKey: string;
  /** when it was made (ms since epoch): in older strings only; nothing reads it, and leaving it out keeps the QR code within 80 columns */
  createdAt?: number;
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function joinError(why: string): BurrowError {
  return new BurrowError('BAD_JOIN_STRING', `This join string is not valid: ${why}.`, 'Copy the whole line again from "burrow device add <name>" (or "burrow device join <name>") on the NAS; it starts with "burrow1:".');
}

/** The NAS's Ed25519 key, created on first use (0600) in the keys folder. */
export function loadNasKey(keysDir: string): { privateKey: crypto.KeyObject; publicRaw: Buffer } {
  const file = path.join(keysDir, 'nas-ed25519.pem');
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      fs.writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Two processes raced to create it: use the one that won.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      pem = fs.readFileSync(file, 'utf8');
    }
  }
  const privateKey = crypto.createPrivateKey(pem);
  const spki = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { privateKey, publicRaw: spki.subarray(spki.length - 32) };
}

export function encodeJoinString(payload: Omit<JoinPayload, 'v' | 'nasKey' | 'createdAt'>, key: { privateKey: crypto.KeyObject; publicRaw: Buffer }): string {
  const full: JoinPayload = { v: 1, ...payload, nasKey: key.publicRaw.toString('base64url') };
  const body = Buffer.from(JSON.stringify(full), 'utf8');
  const sig = crypto.sign(null, body, key.privateKey);
  return `${JOIN_PREFIX}${body.toString('base64url')}.${sig.toString('base64url')}`;
}

/** Parse and verify a join string; throws BAD_JOIN_STRING naming what is wrong. */
export function decodeJoinString(input: string): JoinPayload {
  const s = input.trim().replace(/\s+/g, '');
  if (!s.startsWith(JOIN_PREFIX)) throw joinError(`it must start with "${JOIN_PREFIX}"`);
  const rest = s.slice(JOIN_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot !== rest.lastIndexOf('.')) throw joinError('it is cut short or has extra parts');
  const b64 = /^[A-Za-z0-9_-]+$/;
  const bodyPart = rest.slice(0, dot);
  const sigPart = rest.slice(dot + 1);
  if (!b64.test(bodyPart) || !b64.test(sigPart)) throw joinError('it contains characters that do not belong in it');
  const body = Buffer.from(bodyPart, 'base64url');
  const sig = Buffer.from(sigPart, 'base64url');
  if (sig.length !== 64) throw joinError('its signature is cut short');
  let p: JoinPayload;
  try {
    p = JSON.parse(body.toString('utf8')) as JoinPayload;
  } catch {
    throw joinError('its content is damaged');
  }
  if (typeof p !== 'object' || p === null || p.v !== 1) throw joinError('it was made by a different Burrow version');
  if (typeof p.nasKey !== 'string') throw joinError('it carries no NAS key');
  const pub = Buffer.from(p.nasKey, 'base64url');
  if (pub.length !== 32) throw joinError('its NAS key is damaged');
  const keyObj = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, pub]), format: 'der', type: 'spki' });
  if (!crypto.verify(null, body, keyObj, sig)) throw joinError('its signature does not match (the string was changed after the NAS made it)');
  if (typeof p.device !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(p.device)) throw joinError('its device name is missing or invalid');
  if (typeof p.deviceSecret !== 'string' || !p.deviceSecret.startsWith('A')) throw joinError('its device secret is missing or not a read-write secret');
  if (typeof p.catalogueSecret !== 'string' || !p.catalogueSecret.startsWith('B')) throw joinError('its catalogue secret is missing or not a read-only secret');
  if (!Array.isArray(p.addresses) || p.addresses.some((a) => typeof a !== 'string' || !/^.+:\d{1,5}$/.test(a))) throw joinError('its NAS addresses are damaged');
  return p;
}

/**
 * Interfaces of containers and virtual machines on this host (Docker, libvirt, LXC, Podman, CNI):
 * no device reaches the NAS there, and each address makes the join string and its QR code longer.
 */
const CONTAINER_INTERFACE = /^(docker|br-|veth|virbr|vnet|lxcbr|lxdbr|cni|flannel|cali|podman)/;

/**
 * Where a device can reach the NAS's sync engine: the configured public addresses, else
 * loopback and every non-internal IPv4 address of this machine at the sync port (but not those
 * of container and VM bridges).
 */
export function nasAddresses(cfg: { publicAddresses: string[]; host: string }, port: number): string[] {
  if (cfg.publicAddresses.length) return [...cfg.publicAddresses];
  if (cfg.host !== '0.0.0.0' && cfg.host !== '::') return [`${cfg.host}:${port}`];
  const out = [`127.0.0.1:${port}`];
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    if (CONTAINER_INTERFACE.test(name)) continue;
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(`${a.address}:${port}`);
  }
  return out;
}

