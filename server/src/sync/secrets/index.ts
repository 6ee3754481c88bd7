/**
 * Folder secrets (capabilities). Why this exists: one random read-write
 * secret is the root of every key of a folder. Lower levels are derived
 * one-way (read-write -> read-only -> encrypted), so holding a lower secret
 * never reveals a higher one. This module turns a secret string into the
 * keys each level may hold, and nothing else in the engine handles raw
 * secret bytes.
 *
 * Formats (RFC 4648 Base32, no padding, upper case):
 *   read-write  "A" + b32(rw[20])                  (33 chars)
 *   read-only   "B" + b32(ro[20] || edPub[32])     (85 chars)
 *   encrypted   "F" + b32(enc[20] || edPub[32])    (85 chars)
 * The Ed25519 public key rides in the lower secrets so their holders can
 * verify signatures without ever being able to sign.
 */
import crypto from 'node:crypto';
import { base32 } from 'rfc4648';
import { SyncError } from '../errors.js';

export type SecretLevel = 'rw' | 'ro' | 'enc';
const LEVEL_RANK: Record<SecretLevel, number> = { enc: 0, ro: 1, rw: 2 };
export function levelRank(l: SecretLevel): number {
  return LEVEL_RANK[l];
}

const SEED_LEN = 20;
const PUB_LEN = 32;

export interface FolderKeys {
  level: SecretLevel;
  /** Ed25519 public key of the folder (signs every record). */
  signPub: Buffer;
  /** Only with the read-write secret. */
  signKey?: crypto.KeyObject;
  verifyKey: crypto.KeyObject;
  /** Public folder identity: sha256("burrow-sync/v1/folder-id" || signPub). */
  folderId: Buffer;
  /** 20-byte DHT key: sha256("burrow-sync/v1/dht" || folderId)[0:20]. */
  dhtKey: Buffer;
  /** Keys proving each held level in the handshake. */
  auth: { rw?: Buffer; ro?: Buffer; enc: Buffer };
  /** Channel-binding key every member holds (mixed into session keys). */
  channelKey: Buffer;
  /** LAN beacon key (every member). */
  lanKey: Buffer;
  /** Content keys, only for ro and rw (encrypted peers never hold them). */
  content?: { block: Buffer; blockNonce: Buffer; record: Buffer; recordNonce: Buffer; name: Buffer };
}

export interface FolderSecrets {
  readWrite: string;
  readOnly: string;
  encrypted: string;
}

function h(label: string, ...parts: Buffer[]): Buffer {
  const x = crypto.createHash('sha256');
  x.update('burrow-sync/v1/' + label);
  for (const p of parts) x.update(p);
  return x.digest();
}

function hkdf(ikm: Buffer, info: string, len = 32): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.alloc(0), 'burrow-sync/v1/' + info, len));
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function ed25519FromSeed(seed: Buffer): { priv: crypto.KeyObject; pub: Buffer } {
  const priv = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }) as Buffer;
  return { priv, pub: spki.subarray(spki.length - 32) };
}

export function ed25519PublicKey(pub: Buffer): crypto.KeyObject {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, pub]), format: 'der', type: 'spki' });
}

/** read-only seed from read-write seed (one-way). */
function roFromRw(rw: Buffer): Buffer {
  return h('ro', rw).subarray(0, SEED_LEN);
}
/** encrypted seed from read-only seed (one-way). */
function encFromRo(ro: Buffer): Buffer {
  return h('enc', ro).subarray(0, SEED_LEN);
}

function b32(buf: Buffer): string {
  return base32.stringify(buf, { pad: false });
}

function signPubFromRw(rw: Buffer): { priv: crypto.KeyObject; pub: Buffer } {
  return ed25519FromSeed(hkdf(rw, 'ed25519-seed'));
}

export function secretsFromReadWrite(readWrite: string): FolderSecrets {
  const p = parseSecretBytes(readWrite);
  if (p.level !== 'rw') throw new SyncError('BAD_SECRET', 'not a read-write secret (it must start with A)');
  const { pub } = signPubFromRw(p.seed);
  const ro = roFromRw(p.seed);
  const enc = encFromRo(ro);
  return {
    readWrite,
    readOnly: 'B' + b32(Buffer.concat([ro, pub])),
    encrypted: 'F' + b32(Buffer.concat([enc, pub])),
  };
}

/** A fresh folder identity: 160 random bits, and the two derived secrets. */
export function newFolderSecrets(): FolderSecrets {
  return secretsFromReadWrite('A' + b32(crypto.randomBytes(SEED_LEN)));
}

interface ParsedSecretBytes {
  level: SecretLevel;
  seed: Buffer;
  pub?: Buffer;
}

function parseSecretBytes(s: string): ParsedSecretBytes {
  if (typeof s !== 'string' || s.length === 0) throw new SyncError('BAD_SECRET', 'empty secret');
  const clean = s.trim().replace(/[\s-]/g, '').toUpperCase();
  const letter = clean[0];
  const level: SecretLevel | undefined = letter === 'A' ? 'rw' : letter === 'B' ? 'ro' : letter === 'F' ? 'enc' : undefined;
  if (!level) {
    throw new SyncError('BAD_SECRET', `unknown secret type '${letter ?? ''}': a secret starts with A (read-write), B (read-only) or F (encrypted)`);
  }
  const body = clean.slice(1);
  if (!/^[A-Z2-7]+$/.test(body)) throw new SyncError('BAD_SECRET', 'secret contains characters outside Base32 (A-Z, 2-7)');
  const wantChars = Math.ceil(((level === 'rw' ? SEED_LEN : SEED_LEN + PUB_LEN) * 8) / 5);
  if (body.length !== wantChars) {
    throw new SyncError('BAD_SECRET', `secret has the wrong length: ${body.length + 1} characters, expected ${wantChars + 1} for this type (was it cut when copied?)`);
  }
  let bytes: Buffer;
  try {
    bytes = Buffer.from(base32.parse(body, { loose: true }));
  } catch (e) {
    throw new SyncError('BAD_SECRET', 'secret is not valid Base32: ' + (e as Error).message);
  }
  const want = level === 'rw' ? SEED_LEN : SEED_LEN + PUB_LEN;
  if (bytes.length !== want) {
    throw new SyncError('BAD_SECRET', `secret has the wrong length: ${bytes.length} bytes, expected ${want} for this type (was it cut when copied?)`);
  }
  if (level === 'rw') return { level, seed: bytes };
  return { level, seed: bytes.subarray(0, SEED_LEN), pub: bytes.subarray(SEED_LEN) };
}

/** Parse a secret string into the keys it grants. Throws SyncError('BAD_SECRET') with a clear message. */
export function parseSecret(s: string): FolderKeys {
  const p = parseSecretBytes(s);
  let rw: Buffer | undefined;
  let ro: Buffer | undefined;
  let enc: Buffer;
  let signPub: Buffer;
  let signKey: crypto.KeyObject | undefined;
  if (p.level === 'rw') {
    rw = p.seed;
    const k = signPubFromRw(rw);
    signPub = k.pub;
    signKey = k.priv;
    ro = roFromRw(rw);
    enc = encFromRo(ro);
  } else if (p.level === 'ro') {
    ro = p.seed;
    enc = encFromRo(ro);
    signPub = p.pub!;
  } else {
    enc = p.seed;
    signPub = p.pub!;
  }
  let verifyKey: crypto.KeyObject;
  try {
    verifyKey = ed25519PublicKey(signPub);
  } catch {
    throw new SyncError('BAD_SECRET', 'secret carries an invalid public key');
  }
  const folderId = h('folder-id', signPub);
  const dhtKey = h('dht', folderId).subarray(0, 20);
  const keys: FolderKeys = {
    level: p.level,
    signPub,
    verifyKey,
    folderId,
    dhtKey,
    auth: { enc: hkdf(enc, 'auth-enc') },
    channelKey: hkdf(enc, 'channel'),
    lanKey: hkdf(enc, 'lan'),
  };
  if (signKey) keys.signKey = signKey;
  if (rw) keys.auth.rw = hkdf(rw, 'auth-rw');
  if (ro) {
    keys.auth.ro = hkdf(ro, 'auth-ro');
    keys.content = {
      block: hkdf(ro, 'block-key'),
      blockNonce: hkdf(ro, 'block-nonce'),
      record: hkdf(ro, 'record-key'),
      recordNonce: hkdf(ro, 'record-nonce'),
      name: hkdf(ro, 'name-id'),
    };
  }
  return keys;
}

/** Lower a secret to a weaker level (rw -> ro -> enc); never upward. */
export function deriveSecret(s: string, to: 'ro' | 'enc'): string {
  const p = parseSecretBytes(s);
  if (p.level === 'rw') {
    const all = secretsFromReadWrite(s);
    return to === 'ro' ? all.readOnly : all.encrypted;
  }
  if (p.level === 'ro') {
    if (to === 'ro') return 'B' + b32(Buffer.concat([p.seed, p.pub!]));
    return 'F' + b32(Buffer.concat([encFromRo(p.seed), p.pub!]));
  }
  if (to === 'enc') return 'F' + b32(Buffer.concat([p.seed, p.pub!]));
  throw new SyncError('BAD_SECRET', 'an encrypted secret cannot be raised to read-only');
}

export function secretLevel(s: string): SecretLevel {
  return parseSecretBytes(s).level;
}
