/**
 * Signed file records and version vectors. A record exists in one form on
 * the wire and on disk: the *sealed* record, whose clear fields are what an
 * encrypted-storage peer needs (opaque id, version vector, deleted flag,
 * ciphertext block hashes) and whose payload is the plaintext record
 * (path, size, mtime, mode, block size, plaintext block hashes), encrypted
 * deterministically with a key of the read-only level. Only the read-write
 * key can sign; every peer verifies the signature over the exact body bytes.
 */
import crypto from 'node:crypto';
import type { FolderKeys } from '../secrets/index.js';
import { SyncError } from '../errors.js';
import type { WireRecord } from '../protocol/index.js';

export type VersionVector = Array<[string, number]>; // sorted by device id

export type VVOrder = 'equal' | 'greater' | 'lesser' | 'concurrent';

export function vvCompare(a: VersionVector, b: VersionVector): VVOrder {
  const ma = new Map(a);
  const mb = new Map(b);
  let gt = false;
  let lt = false;
  for (const [k, va] of ma) {
    const vb = mb.get(k) ?? 0;
    if (va > vb) gt = true;
    else if (va < vb) lt = true;
  }
  for (const [k, vb] of mb) if (!ma.has(k) && vb > 0) lt = true;
  if (gt && lt) return 'concurrent';
  if (gt) return 'greater';
  if (lt) return 'lesser';
  return 'equal';
}
export function vvMerge(a: VersionVector, b: VersionVector): VersionVector {
  const m = new Map(a);
  for (const [k, v] of b) m.set(k, Math.max(v, m.get(k) ?? 0));
  return [...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}
/**
 * A new local version. The counter also jumps to the current time in seconds
 * (as Syncthing does), so a device never reuses a counter value it signed
 * before, even after adopting a conflict winner whose vector lacks it.
 */
export function vvBump(a: VersionVector, device: string): VersionVector {
  const m = new Map(a);
  m.set(device, Math.max((m.get(device) ?? 0) + 1, Math.floor(Date.now() / 1000)));
  return [...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

export interface PlainRecord {
  path: string;
  size: number;
  mtime: number; // ms since epoch, integer
  mode: number; // permission bits
  bs: number; // block size
  blocks: string[]; // base64 sha256 of each plaintext block
  del: boolean;
}
export interface SealedRecord {
  id: string; // base64 HMAC of the path
  vv: VersionVector;
  del: boolean;
  blocks: Array<[string, number]>; // [base64 sha256 of ciphertext block, ciphertext length]
  payload: string; // base64
  body: Buffer;
  sig: Buffer;
  hash: string; // hex sha256 of body: identifies this exact version
}

const MAX_BLOCKS = 2100;
/** Longest file or folder name (one path segment) in bytes, as on ext4, btrfs, NTFS and APFS. */
export const MAX_NAME_BYTES = 255;

/** Validate a relative path from anywhere outside (a peer, a record). */
export function safeRelPath(p: unknown): p is string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096) return false;
  if (p.includes('\0') || p.includes('\\') || p.startsWith('/')) return false;
  const parts = p.split('/');
  for (const s of parts) if (s === '' || s === '.' || s === '..') return false;
  if (parts[0] === '.burrow-sync') return false;
  return true;
}

export function nameId(keys: FolderKeys, path: string): string {
  return crypto.createHmac('sha256', keys.content!.name).update(path).digest('base64');
}

/* ---------- deterministic (SIV-style) encryption ---------- */

function sivSeal(key: Buffer, nonceKey: Buffer, nonceInput: Buffer, plain: Buffer): Buffer {
  const nonce = crypto.createHmac('sha256', nonceKey).update(nonceInput).digest().subarray(0, 12);
  const c = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const ct = c.update(plain);
  c.final();
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}
function sivOpen(key: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < 28) throw new SyncError('DECRYPT_FAILED', 'ciphertext too short');
  const d = crypto.createDecipheriv('chacha20-poly1305', key, sealed.subarray(0, 12), { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
  } catch {
    throw new SyncError('DECRYPT_FAILED', 'ciphertext failed authentication');
  }
}

/** Encrypt one plaintext block; the same block always gives the same ciphertext. */
export function encryptBlock(keys: FolderKeys, plain: Buffer, plainHash: Buffer): Buffer {
  return sivSeal(keys.content!.block, keys.content!.blockNonce, plainHash, plain);
}
export function decryptBlock(keys: FolderKeys, cipher: Buffer): Buffer {
  return sivOpen(keys.content!.block, cipher);
}

/* ---------- records ---------- */

function plainJson(p: PlainRecord): Buffer {
  return Buffer.from(
    JSON.stringify({ path: p.path, size: p.size, mtime: p.mtime, mode: p.mode, bs: p.bs, blocks: p.blocks, del: p.del }),
  );
}

/** The bytes a version holds: its plaintext size, or its ciphertext's where only that is known (encrypted storage). */
export function versionBytes(s: SealedRecord, p: PlainRecord | undefined): number {
  return p ? p.size : s.blocks.reduce((a, b) => a + b[1], 0);
}

/** Build and sign a record (read-write level only). */
export function makeRecord(keys: FolderKeys, plain: PlainRecord, vv: VersionVector, cipherBlocks: Array<[string, number]>): SealedRecord {
  if (!keys.signKey || !keys.content) throw new SyncError('MODE_NOT_ALLOWED', 'only the read-write secret can sign records');
  const pj = plainJson(plain);
  const payload = sivSeal(keys.content.record, keys.content.recordNonce, pj, pj).toString('base64');
  const id = nameId(keys, plain.path);
  const body = Buffer.from(JSON.stringify({ v: 1, id, vv, del: plain.del, blocks: cipherBlocks, p: payload }));
  const sig = crypto.sign(null, body, keys.signKey);
  return { id, vv, del: plain.del, blocks: cipherBlocks, payload, body, sig, hash: crypto.createHash('sha256').update(body).digest('hex') };
}

function isB64Hash(x: unknown): x is string {
  return typeof x === 'string' && x.length === 44 && /^[A-Za-z0-9+/]{43}=$/.test(x);
}
function isUInt(x: unknown, max = Number.MAX_SAFE_INTEGER): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
}

/** Verify the signature and the shape of a sealed record. Any peer can do this. */
export function verifyRecord(keys: FolderKeys, w: WireRecord, opts: { trusted?: boolean } = {}): SealedRecord {
  // `trusted`: a record this engine verified before and read back from its own owner-only state.
  if (w.sig.length !== 64 || (!opts.trusted && !crypto.verify(null, w.body, keys.verifyKey, w.sig))) {
    throw new SyncError('BAD_SIGNATURE', 'record signature does not verify with the folder key');
  }
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(w.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SyncError('BAD_RECORD', 'record body is not JSON');
  }
  if (!o || typeof o !== 'object' || o.v !== 1) throw new SyncError('BAD_RECORD', 'bad record version');
  if (!isB64Hash(o.id)) throw new SyncError('BAD_RECORD', 'bad record id');
  if (!Array.isArray(o.vv) || o.vv.length > 10000) throw new SyncError('BAD_RECORD', 'bad version vector');
  for (const e of o.vv) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !/^[0-9a-f]{16}$/.test(e[0]) || !isUInt(e[1])) {
      throw new SyncError('BAD_RECORD', 'bad version vector entry');
    }
  }
  if (typeof o.del !== 'boolean') throw new SyncError('BAD_RECORD', 'bad deleted flag');
  if (!Array.isArray(o.blocks) || o.blocks.length > MAX_BLOCKS) throw new SyncError('BAD_RECORD', 'bad block list');
  for (const b of o.blocks) {
    if (!Array.isArray(b) || b.length !== 2 || !isB64Hash(b[0]) || !isUInt(b[1], 16 * 1024 * 1024 + 28)) {
      throw new SyncError('BAD_RECORD', 'bad block entry');
    }
  }
  if (typeof o.p !== 'string' || o.p.length > 400_000) throw new SyncError('BAD_RECORD', 'bad payload');
  return {
    id: o.id,
    vv: o.vv as VersionVector,
    del: o.del,
    blocks: o.blocks as Array<[string, number]>,
    payload: o.p,
    body: w.body,
    sig: w.sig,
    hash: crypto.createHash('sha256').update(w.body).digest('hex'),
  };
}

/** Decrypt and check the plaintext part (read-only and read-write levels). */
export function openRecord(keys: FolderKeys, s: SealedRecord): PlainRecord {
  if (!keys.content) throw new SyncError('MODE_NOT_ALLOWED', 'this secret cannot read records');
  const pj = sivOpen(keys.content.record, Buffer.from(s.payload, 'base64'));
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(pj.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SyncError('BAD_RECORD', 'payload is not JSON');
  }
  if (!safeRelPath(o.path)) throw new SyncError('BAD_RECORD', 'unsafe path in record');
  const long = o.path.split('/').find((seg) => Buffer.byteLength(seg) > MAX_NAME_BYTES);
  if (long !== undefined) throw new SyncError('BAD_RECORD', `a name in ${JSON.stringify(o.path.slice(0, 80))}… is ${Buffer.byteLength(long)} bytes, more than the ${MAX_NAME_BYTES} a file system allows: refused`);
  if (!isUInt(o.size) || !isUInt(o.mtime) || !isUInt(o.mode, 0o7777) || !isUInt(o.bs, 16 * 1024 * 1024) || typeof o.del !== 'boolean') {
    throw new SyncError('BAD_RECORD', 'bad plaintext fields');
  }
  if (!Array.isArray(o.blocks) || !o.blocks.every(isB64Hash)) throw new SyncError('BAD_RECORD', 'bad plaintext blocks');
  const p: PlainRecord = { path: o.path, size: o.size, mtime: o.mtime, mode: o.mode, bs: o.bs, blocks: o.blocks as string[], del: o.del };
  if (nameId(keys, p.path) !== s.id) throw new SyncError('BAD_RECORD', 'record id does not match its path');
  if (p.del !== s.del || p.blocks.length !== s.blocks.length) throw new SyncError('BAD_RECORD', 'sealed and plaintext parts disagree');
  if (!p.del) {
    if (p.bs < 128 * 1024 && p.blocks.length > 1) throw new SyncError('BAD_RECORD', 'bad block size');
    const want = p.size === 0 ? 0 : Math.ceil(p.size / p.bs);
    if (p.blocks.length !== want) throw new SyncError('BAD_RECORD', 'block count does not match size');
  }
  return p;
}

/** Smallest power of two from 128 KiB to 16 MiB giving fewer than 2000 blocks. */
export function blockSizeFor(size: number): number {
  let bs = 128 * 1024;
  while (Math.ceil(size / bs) >= 2000 && bs < 16 * 1024 * 1024) bs *= 2;
  return bs;
}

/** Deterministic winner of two concurrent versions: an edit beats a delete, then newer mtime, then larger hash. */
export function pickWinner(a: { s: SealedRecord; p?: PlainRecord }, b: { s: SealedRecord; p?: PlainRecord }): 'a' | 'b' {
  if (a.s.del !== b.s.del) return a.s.del ? 'b' : 'a';
  if (a.p && b.p && a.p.mtime !== b.p.mtime) return a.p.mtime > b.p.mtime ? 'a' : 'b';
  return a.s.hash > b.s.hash ? 'a' : 'b';
}

/** Conflict copy name: name.sync-conflict-YYYYMMDD-HHMMSS-<shortid>.ext */
export function conflictName(path: string, date: Date, shortId: string, n = 1): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot) : '';
  const z = (n: number, w = 2): string => String(n).padStart(w, '0');
  const stamp = `${date.getUTCFullYear()}${z(date.getUTCMonth() + 1)}${z(date.getUTCDate())}-${z(date.getUTCHours())}${z(date.getUTCMinutes())}${z(date.getUTCSeconds())}`;
  return `${dir}${stem}.sync-conflict-${stamp}-${shortId.slice(0, 7).toUpperCase()}${n > 1 ? '-' + n : ''}${ext}`;
}
