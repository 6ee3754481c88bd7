/**
 * The wire format, and nothing else. Why this exists: so the bytes on the
 * wire are defined in one place that knows no folders, files or sockets.
 * It turns frames into typed messages and back, and rejects anything
 * malformed with a ProtocolError (never a crash). It imports nothing from
 * the rest of the engine (see PROTOCOL.md for the prose version).
 */

export const MAGIC = Buffer.from('BSY3', 'ascii');
/** The first three bytes of every handshake magic; the fourth is the version digit. */
const MAGIC_FAMILY = Buffer.from('BSY', 'ascii');
/** Cleartext refusal a responder sends to an initiator of another version: "BSYV" ‖ u8 version ‖ UTF-8 reason. */
export const REFUSAL = Buffer.from('BSYV', 'ascii');
/** Largest frame body accepted once authenticated (a 16 MiB block + headers + AEAD tag). */
export const MAX_FRAME = 16 * 1024 * 1024 + 4096;
/** Largest frame body accepted before the handshake is done: nothing unauthenticated may cost more. */
export const MAX_PREAUTH_FRAME = 4096;
export const PROTOCOL_VERSION = 3;
/** Most addresses one Peers message may carry. */
export const MAX_PEERS = 32;

export class ProtocolError extends Error {
  readonly code = 'BAD_MESSAGE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

function fail(msg: string): never {
  throw new ProtocolError(msg);
}

export enum MsgType {
  Hello = 1,
  Index = 2,
  IndexUpdate = 3,
  Request = 4,
  Response = 5,
  Peers = 6,
  Error = 7,
  IndexStart = 8,
  /** Liveness only: an empty body. A link that hears nothing (not even a Ping) for a while is dead. */
  Ping = 9,
}

export interface HelloMsg {
  type: MsgType.Hello;
  v: number;
  device: string; // 16 hex chars: hex(H("burrow-sync/v2/device-id" ‖ key)[0:8])
  key: string; // base64 Ed25519 public key of the device (32 bytes)
  sig: string; // base64 Ed25519 signature over "burrow-sync/v2/device" ‖ role ‖ th (64 bytes)
  proofs: { enc: string; ro?: string; rw?: string }; // base64 HMACs
  port?: number; // where the sender listens, for peer exchange
}
export interface WireRecord {
  body: Buffer; // canonical JSON of a sealed record
  sig: Buffer; // Ed25519 signature over body (64 bytes)
}
export interface IndexMsg {
  type: MsgType.Index | MsgType.IndexUpdate;
  final: boolean;
  /**
   * The sender's index sequence this message brings the receiver up to: every
   * record of the sender's index with a sequence at or below it has now been
   * sent (in this session or, for a delta, in an earlier one). 0: no claim.
   */
  seq?: number;
  records: WireRecord[];
}
/** 16 hex digits: a random id a device gives its index of one folder; a new one whenever that index starts afresh. */
export const INDEX_ID = /^[0-9a-f]{16}$/;
/**
 * Sent once by each side right after the Hellos, before any Index: the
 * sender's own index id, and what it already holds of the receiver's index
 * (its index id and the highest sequence received), so the receiver sends
 * only the records that changed since.
 */
export interface IndexStartMsg {
  type: MsgType.IndexStart;
  index: string;
  have: { index: string; seq: number } | null;
}
export enum BlockKind {
  Plain = 0,
  Cipher = 1,
}
export interface RequestMsg {
  type: MsgType.Request;
  id: number;
  kind: BlockKind;
  hash: Buffer; // 32 bytes
  size: number;
}
export enum RespStatus {
  Ok = 0,
  NotFound = 1,
  Error = 2,
}
export interface ResponseMsg {
  type: MsgType.Response;
  id: number;
  status: RespStatus;
  data: Buffer;
}
export interface PeersMsg {
  type: MsgType.Peers;
  peers: string[]; // "host:port"
}
export interface ErrorMsg {
  type: MsgType.Error;
  code: string;
  message: string;
}
export interface PingMsg {
  type: MsgType.Ping;
}

export type Message = HelloMsg | IndexMsg | IndexStartMsg | RequestMsg | ResponseMsg | PeersMsg | ErrorMsg | PingMsg;

/* ---------------- frames ---------------- */

/** Prefix a body with its u32 big-endian length. */
export function frame(body: Buffer): Buffer {
  if (body.length > MAX_FRAME) fail(`frame too large: ${body.length}`);
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE(body.length, 0);
  return Buffer.concat([h, body]);
}

/** Streaming splitter of length-prefixed frames. push() returns complete bodies. */
export class FrameDecoder {
  private bufs: Buffer[] = [];
  private len = 0;
  private budget = Infinity;
  constructor(private max = MAX_FRAME) {}
  /** Raise (or lower) the limit, e.g. once the peer is authenticated. */
  setLimit(max: number): void {
    this.max = max;
  }
  /**
   * Split out at most `n` more frames; later bytes stay buffered, unparsed, until
   * the budget is raised (the handshake reads a known number of small frames,
   * and what follows them is only judged under the authenticated limit).
   */
  setFrameBudget(n: number): void {
    this.budget = n;
  }
  get exhausted(): boolean {
    return this.budget <= 0;
  }
  push(chunk: Buffer): Buffer[] {
    if (chunk.length) {
      this.bufs.push(chunk);
      this.len += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.len < 4 || this.budget <= 0) break;
      let head = this.bufs[0]!;
      if (head.length < 4) {
        head = Buffer.concat(this.bufs);
        this.bufs = [head];
      }
      const n = head.readUInt32BE(0);
      if (n > this.max) fail(`frame length ${n} exceeds limit ${this.max}`);
      if (this.len < 4 + n) break;
      const all = this.bufs.length === 1 ? head : Buffer.concat(this.bufs);
      out.push(all.subarray(4, 4 + n));
      this.budget--;
      const rest = all.subarray(4 + n);
      this.bufs = rest.length ? [rest] : [];
      this.len = rest.length;
    }
    return out;
  }
}

/* ---------------- handshake (cleartext) ---------------- */

export interface HandshakeInit {
  folderId: Buffer; // 32
  eph: Buffer; // 32, X25519 public
}
export function encodeHandshakeInit(m: HandshakeInit): Buffer {
  if (m.folderId.length !== 32 || m.eph.length !== 32) fail('bad handshake fields');
  return Buffer.concat([MAGIC, m.folderId, m.eph]);
}
/** The version digit of a handshake message of another version of this protocol, or null. */
export function otherVersion(b: Buffer): number | null {
  if (b.length < 4 || !b.subarray(0, 3).equals(MAGIC_FAMILY) || b[3] === MAGIC[3]) return null;
  const v = b[3]! - 0x30;
  return v >= 0 && v <= 9 ? v : null;
}
export function encodeRefusal(reason: string): Buffer {
  return Buffer.concat([REFUSAL, Buffer.from([PROTOCOL_VERSION]), Buffer.from(reason.slice(0, 200), 'utf8')]);
}
/** A refusal frame: the version the refusing peer speaks and its reason; null if not a refusal. */
export function decodeRefusal(b: Buffer): { version: number; reason: string } | null {
  if (b.length < 5 || !b.subarray(0, 4).equals(REFUSAL)) return null;
  return { version: b[4]!, reason: b.subarray(5).toString('utf8') };
}
export function decodeHandshakeInit(b: Buffer): HandshakeInit {
  if (b.length !== 68 || !b.subarray(0, 4).equals(MAGIC)) fail('bad handshake init');
  return { folderId: Buffer.from(b.subarray(4, 36)), eph: Buffer.from(b.subarray(36, 68)) };
}
export function encodeHandshakeReply(eph: Buffer): Buffer {
  if (eph.length !== 32) fail('bad handshake fields');
  return Buffer.concat([MAGIC, eph]);
}
export function decodeHandshakeReply(b: Buffer): Buffer {
  if (b.length !== 36 || !b.subarray(0, 4).equals(MAGIC)) fail('bad handshake reply');
  return Buffer.from(b.subarray(4, 36));
}

/* ---------------- messages ---------------- */

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
function isB64(x: unknown, maxLen = 200): x is string {
  return typeof x === 'string' && x.length <= maxLen && B64.test(x);
}
function jsonBody(b: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(b.toString('utf8'));
  } catch {
    fail('body is not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail('body is not a JSON object');
  return v as Record<string, unknown>;
}
function isPort(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x > 0 && x < 65536;
}

export function encodeMessage(m: Message): Buffer {
  switch (m.type) {
    case MsgType.Hello: {
      const o: Record<string, unknown> = { v: m.v, device: m.device, key: m.key, sig: m.sig, proofs: m.proofs };
      if (m.port !== undefined) o.port = m.port;
      return Buffer.concat([Buffer.from([m.type]), Buffer.from(JSON.stringify(o))]);
    }
    case MsgType.Index:
    case MsgType.IndexUpdate: {
      let size = 14;
      for (const r of m.records) size += 4 + r.body.length + 64;
      const seq = m.seq ?? 0;
      if (!Number.isSafeInteger(seq) || seq < 0) fail('bad index sequence');
      const out = Buffer.allocUnsafe(size);
      out[0] = m.type;
      out[1] = m.final ? 1 : 0;
      out.writeBigUInt64BE(BigInt(seq), 2);
      out.writeUInt32BE(m.records.length, 10);
      let o = 14;
      for (const r of m.records) {
        if (r.sig.length !== 64) fail('signature must be 64 bytes');
        out.writeUInt32BE(r.body.length, o);
        o += 4;
        r.body.copy(out, o);
        o += r.body.length;
        r.sig.copy(out, o);
        o += 64;
      }
      return out;
    }
    case MsgType.Request: {
      if (m.hash.length !== 32) fail('hash must be 32 bytes');
      const out = Buffer.allocUnsafe(1 + 4 + 1 + 32 + 4);
      out[0] = m.type;
      out.writeUInt32BE(m.id >>> 0, 1);
      out[5] = m.kind;
      m.hash.copy(out, 6);
      out.writeUInt32BE(m.size >>> 0, 38);
      return out;
    }
    case MsgType.Response: {
      const head = Buffer.allocUnsafe(6);
      head[0] = m.type;
      head.writeUInt32BE(m.id >>> 0, 1);
      head[5] = m.status;
      return Buffer.concat([head, m.data]);
    }
    case MsgType.IndexStart:
      return Buffer.concat([Buffer.from([m.type]), Buffer.from(JSON.stringify({ index: m.index, have: m.have }))]);
    case MsgType.Peers:
      return Buffer.concat([Buffer.from([m.type]), Buffer.from(JSON.stringify({ peers: m.peers }))]);
    case MsgType.Error:
      return Buffer.concat([Buffer.from([m.type]), Buffer.from(JSON.stringify({ code: m.code, message: m.message }))]);
    case MsgType.Ping:
      return Buffer.from([m.type]);
    default:
      return fail('unknown message type');
  }
}

/** Strict decoder: any deviation from the format throws ProtocolError. */
export function decodeMessage(b: Buffer): Message {
  if (b.length < 1) fail('empty message');
  const t = b[0]!;
  const body = b.subarray(1);
  switch (t) {
    case MsgType.Hello: {
      const o = jsonBody(body);
      if (o.v !== PROTOCOL_VERSION) fail('unsupported protocol version');
      if (typeof o.device !== 'string' || !/^[0-9a-f]{16}$/.test(o.device)) fail('bad device id');
      if (!isB64(o.key, 44) || Buffer.from(o.key, 'base64').length !== 32) fail('bad device key');
      if (!isB64(o.sig, 88) || Buffer.from(o.sig, 'base64').length !== 64) fail('bad device signature');
      const p = o.proofs as Record<string, unknown> | undefined;
      if (!p || typeof p !== 'object' || Array.isArray(p)) fail('missing proofs');
      if (!isB64(p.enc)) fail('missing enc proof');
      const proofs: HelloMsg['proofs'] = { enc: p.enc };
      if (p.ro !== undefined) {
        if (!isB64(p.ro)) fail('bad ro proof');
        proofs.ro = p.ro;
      }
      if (p.rw !== undefined) {
        if (!isB64(p.rw)) fail('bad rw proof');
        proofs.rw = p.rw;
      }
      const m: HelloMsg = { type: MsgType.Hello, v: o.v, device: o.device, key: o.key, sig: o.sig, proofs };
      if (o.port !== undefined) {
        if (!isPort(o.port)) fail('bad port');
        m.port = o.port;
      }
      return m;
    }
    case MsgType.Index:
    case MsgType.IndexUpdate: {
      if (body.length < 13) fail('short index');
      const flags = body[0]!;
      if (flags > 1) fail('bad index flags');
      const seq = body.readBigUInt64BE(1);
      if (seq > BigInt(Number.MAX_SAFE_INTEGER)) fail('bad index sequence');
      const n = body.readUInt32BE(9);
      let o = 13;
      const records: WireRecord[] = [];
      for (let i = 0; i < n; i++) {
        if (o + 4 > body.length) fail('truncated index');
        const len = body.readUInt32BE(o);
        o += 4;
        if (len === 0 || o + len + 64 > body.length) fail('truncated index record');
        records.push({ body: Buffer.from(body.subarray(o, o + len)), sig: Buffer.from(body.subarray(o + len, o + len + 64)) });
        o += len + 64;
      }
      if (o !== body.length) fail('trailing bytes in index');
      return { type: t, final: flags === 1, seq: Number(seq), records };
    }
    case MsgType.Request: {
      if (body.length !== 41) fail('bad request length');
      const kind = body[4]!;
      if (kind !== BlockKind.Plain && kind !== BlockKind.Cipher) fail('bad block kind');
      const size = body.readUInt32BE(37);
      if (size > 16 * 1024 * 1024 + 64) fail('request too large');
      return { type: MsgType.Request, id: body.readUInt32BE(0), kind, hash: Buffer.from(body.subarray(5, 37)), size };
    }
    case MsgType.Response: {
      if (body.length < 5) fail('short response');
      const status = body[4]!;
      if (status > 2) fail('bad response status');
      return { type: MsgType.Response, id: body.readUInt32BE(0), status, data: body.subarray(5) };
    }
    case MsgType.IndexStart: {
      const o = jsonBody(body);
      if (Object.keys(o).length !== 2 || typeof o.index !== 'string' || !INDEX_ID.test(o.index)) fail('bad index id');
      if (o.have === null) return { type: MsgType.IndexStart, index: o.index, have: null };
      const h = o.have as Record<string, unknown>;
      if (!h || typeof h !== 'object' || Array.isArray(h) || Object.keys(h).length !== 2) fail('bad index start');
      if (typeof h.index !== 'string' || !INDEX_ID.test(h.index)) fail('bad index id');
      if (typeof h.seq !== 'number' || !Number.isSafeInteger(h.seq) || h.seq < 0) fail('bad index sequence');
      return { type: MsgType.IndexStart, index: o.index, have: { index: h.index, seq: h.seq } };
    }
    case MsgType.Peers: {
      const o = jsonBody(body);
      if (!Array.isArray(o.peers) || o.peers.length > MAX_PEERS) fail(`bad peers list (at most ${MAX_PEERS} addresses)`);
      const peers: string[] = [];
      for (const p of o.peers) {
        if (typeof p !== 'string' || p.length > 300 || !/^[^\s]+:\d{1,5}$/.test(p)) fail('bad peer address');
        peers.push(p);
      }
      return { type: MsgType.Peers, peers };
    }
    case MsgType.Error: {
      const o = jsonBody(body);
      if (typeof o.code !== 'string' || typeof o.message !== 'string' || o.code.length > 100 || o.message.length > 2000) fail('bad error message');
      return { type: MsgType.Error, code: o.code, message: o.message };
    }
    case MsgType.Ping:
      if (body.length !== 0) fail('bad ping');
      return { type: MsgType.Ping };
    default:
      return fail(`unknown message type ${t}`);
  }
}
