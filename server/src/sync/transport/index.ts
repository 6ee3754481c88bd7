/**
 * Encrypted, mutually authenticated connections over TCP. Why this exists:
 * the model must only ever see messages from a peer that proved it holds a
 * secret of the folder, over a channel with forward secrecy and no replays.
 *
 * Handshake (see PROTOCOL.md): X25519 ephemeral keys on both sides, session
 * keys via HKDF over the shared secret and the folder's channel key, one key
 * per direction, ChaCha20-Poly1305 with a per-direction counter as nonce.
 * Each side then proves the secret levels it holds with HMACs over the
 * handshake transcript, bound to its role so proofs cannot be reflected.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { EventEmitter } from 'node:events';
import {
  FrameDecoder,
  MAGIC,
  MAX_FRAME,
  MAX_PREAUTH_FRAME,
  MsgType,
  ProtocolError,
  PROTOCOL_VERSION,
  decodeHandshakeInit,
  decodeHandshakeReply,
  decodeMessage,
  decodeRefusal,
  encodeRefusal,
  otherVersion,
  encodeHandshakeInit,
  encodeHandshakeReply,
  encodeMessage,
  frame,
  type HelloMsg,
  type Message,
} from '../protocol/index.js';
import { ed25519FromSeed, ed25519PublicKey, type FolderKeys, type SecretLevel } from '../secrets/index.js';
import { SyncError } from '../errors.js';

const TAG = 16;
const DEAD_MS = Number(process.env.BURROW_SYNC_DEAD_MS) || 6000;
/**
 * Liveness of an authenticated link: a side that sent nothing for pingMs sends a Ping; a side
 * that heard nothing for deadMs drops the link (BURROW_SYNC_DEAD_MS overrides the 6 s).
 */
export const LIVENESS = { pingMs: Math.max(200, Math.floor(DEAD_MS / 4)), deadMs: DEAD_MS };
const HANDSHAKE_TIMEOUT = 10_000;
/** Frames each side reads before it is authenticated: the initiator's init or the reply, then a Hello. */
const HANDSHAKE_FRAMES = 2;

/**
 * Who this device is: an Ed25519 key pair whose public key hash is the
 * device id. The handshake proves the key, so holding a folder secret is not
 * enough to speak as another device.
 */
export interface LocalIdentity {
  device: string; // 16 hex
  key: crypto.KeyObject; // Ed25519 private key
  pub: Buffer; // its 32-byte public key
  port?: number;
}

export function deviceIdOf(pub: Buffer): string {
  return crypto.createHash('sha256').update('burrow-sync/v2/device-id').update(pub).digest().subarray(0, 8).toString('hex');
}

/** The identity of a 32-byte Ed25519 seed (how the engine stores it). */
export function deviceIdentityFromSeed(seed: Buffer): LocalIdentity {
  const { priv, pub } = ed25519FromSeed(seed);
  return { device: deviceIdOf(pub), key: priv, pub };
}

export function newDeviceIdentity(): LocalIdentity {
  return deviceIdentityFromSeed(crypto.randomBytes(32));
}

function deviceSigInput(role: 'I' | 'R', th: Buffer): Buffer {
  return Buffer.concat([Buffer.from('burrow-sync/v2/device'), Buffer.from(role), th]);
}

function x25519Pair(): { priv: crypto.KeyObject; pub: Buffer } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' }) as Buffer;
  return { priv: privateKey, pub: spki.subarray(spki.length - 32) };
}
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
function x25519Shared(priv: crypto.KeyObject, peerPub: Buffer): Buffer {
  const pub = crypto.createPublicKey({ key: Buffer.concat([X25519_SPKI, peerPub]), format: 'der', type: 'spki' });
  const s = crypto.diffieHellman({ privateKey: priv, publicKey: pub });
  if (s.every((b) => b === 0)) throw new SyncError('HANDSHAKE_FAILED', 'low-order X25519 point');
  return s;
}

function proof(key: Buffer, role: 'I' | 'R', th: Buffer): Buffer {
  return crypto.createHmac('sha256', key).update('burrow-sync/v1/proof').update(role).update(th).digest();
}

function nonce(counter: bigint): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(counter, 4);
  return n;
}

/** Reads whole frames from a socket; used during the cleartext handshake. */
class FrameReader {
  // Before authentication a frame may not be larger than a handshake needs.
  readonly dec = new FrameDecoder(MAX_PREAUTH_FRAME);
  private queue: Buffer[] = [];
  private waiters: Array<{ res: (b: Buffer) => void; rej: (e: Error) => void }> = [];
  private err: Error | null = null;
  private onData = (chunk: Buffer): void => {
    let frames: Buffer[];
    try {
      frames = this.dec.push(chunk);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    for (const f of frames) {
      const w = this.waiters.shift();
      if (w) w.res(f);
      else this.queue.push(f);
    }
    // Both handshake frames are in: stop reading (TCP pushes back) until the peer is authenticated.
    if (this.dec.exhausted) this.sock.pause();
  };
  private onEnd = (): void => this.fail(new SyncError('HANDSHAKE_FAILED', 'connection closed during handshake'));
  constructor(private readonly sock: net.Socket) {
    this.dec.setFrameBudget(HANDSHAKE_FRAMES);
    sock.on('data', this.onData);
    sock.on('close', this.onEnd);
    sock.on('error', this.onEnd);
  }
  private fail(e: Error): void {
    this.err = e;
    for (const w of this.waiters.splice(0)) w.rej(e);
  }
  next(): Promise<Buffer> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.err) return Promise.reject(this.err);
    return new Promise((res, rej) => this.waiters.push({ res, rej }));
  }
  /** Detach, returning any buffered bytes that belong to the next stage. */
  detach(): { frames: Buffer[]; decoder: FrameDecoder } {
    this.sock.pause();
    this.sock.off('data', this.onData);
    this.sock.off('close', this.onEnd);
    this.sock.off('error', this.onEnd);
    return { frames: this.queue.splice(0), decoder: this.dec };
  }
}

export interface ConnectionEvents {
  message: [Message];
  close: [Error | undefined];
}

/**
 * An authenticated encrypted connection for one folder. Emits 'message'
 * for each decoded message and 'close' once.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly remoteDevice: string;
  /** Highest level the peer proved that WE could verify. */
  readonly remoteLevel: SecretLevel;
  readonly remotePort: number | undefined;
  readonly remoteHost: string;
  readonly initiator: boolean;
  bytesIn = 0;
  bytesOut = 0;
  closed = false;
  private sendCounter = 0n;
  private recvCounter = 0n;

  private constructor(
    private readonly sock: net.Socket,
    private readonly sendKey: Buffer,
    private readonly recvKey: Buffer,
    hello: HelloMsg,
    level: SecretLevel,
    initiator: boolean,
    sendCounter: bigint,
    recvCounter: bigint,
  ) {
    super();
    this.remoteDevice = hello.device;
    this.remoteLevel = level;
    this.remotePort = hello.port;
    this.remoteHost = sock.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    this.initiator = initiator;
    this.sendCounter = sendCounter;
    this.recvCounter = recvCounter;
  }

  private pending: { decoder: FrameDecoder; frames: Buffer[] } | null = null;
  private lastHeard = Date.now();
  private lastSent = Date.now();
  private liveTimer: NodeJS.Timeout | null = null;

  /** Start delivering messages; call after attaching 'message' and 'close' listeners. */
  resume(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    this.start(p.decoder, p.frames);
    if (!this.closed) this.sock.resume();
  }

  private start(decoder: FrameDecoder, pending: Buffer[]): void {
    const handle = (f: Buffer): boolean => {
      if (this.closed) return false;
      let msg: Message;
      try {
        msg = decodeMessage(this.open(f));
      } catch (e) {
        this.destroy(e instanceof ProtocolError || e instanceof SyncError ? e : new SyncError('BAD_FRAME', String(e)));
        return false;
      }
      // Liveness only: it has done its job by arriving.
      if (msg.type === MsgType.Ping) return true;
      try {
        this.emit('message', msg);
      } catch (e) {
        this.destroy(e as Error);
        return false;
      }
      return true;
    };
    for (const f of pending) if (!handle(f)) return;
    this.sock.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.lastHeard = Date.now();
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      for (const f of frames) if (!handle(f)) return;
    });
    this.sock.on('error', (e) => this.destroy(e));
    this.sock.on('close', () => this.destroy());
    this.sock.setNoDelay(true);
    this.lastHeard = Date.now();
    // A link whose cable was pulled (or whose ISP cut it) never closes on its own: TCP keeps
    // retransmitting for minutes. Each side pings when it has sent nothing for a while, and a
    // side that hears nothing at all for LIVENESS.deadMs drops the link, so the folder turns to
    // its other peers (a NAS in another zone) within seconds.
    this.liveTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastHeard > LIVENESS.deadMs) this.destroy(new SyncError('PEER_SILENT', `the peer sent nothing for ${Math.round((now - this.lastHeard) / 1000)} s`));
      else if (now - this.lastSent >= LIVENESS.pingMs) this.send({ type: MsgType.Ping });
    }, Math.max(100, Math.floor(LIVENESS.pingMs / 2)));
    this.liveTimer.unref();
    if (this.sock.destroyed) this.destroy();
  }

  private open(f: Buffer): Buffer {
    if (f.length < TAG) throw new SyncError('BAD_FRAME', 'frame shorter than tag');
    const d = crypto.createDecipheriv('chacha20-poly1305', this.recvKey, nonce(this.recvCounter), { authTagLength: TAG });
    d.setAuthTag(f.subarray(f.length - TAG));
    let out: Buffer;
    try {
      out = Buffer.concat([d.update(f.subarray(0, f.length - TAG)), d.final()]);
    } catch {
      throw new SyncError('DECRYPT_FAILED', 'frame failed authentication (tampered, replayed or reordered)');
    }
    this.recvCounter++;
    return out;
  }

  private seal(plain: Buffer): Buffer {
    const c = crypto.createCipheriv('chacha20-poly1305', this.sendKey, nonce(this.sendCounter++), { authTagLength: TAG });
    const body = c.update(plain);
    c.final();
    return frame(Buffer.concat([body, c.getAuthTag()]));
  }

  /** Send a message; returns false when the socket buffer is full (see drain()). */
  send(m: Message): boolean {
    if (this.closed) return false;
    const f = this.seal(encodeMessage(m));
    this.bytesOut += f.length;
    this.lastSent = Date.now();
    return this.sock.write(f);
  }

  /** Send raw bytes exactly as given (tests use this to inject garbage). */
  sendRawEncrypted(plain: Buffer): void {
    if (this.closed) return;
    this.sock.write(this.seal(plain));
  }

  drain(): Promise<void> {
    if (this.closed || !this.sock.writableNeedDrain) return Promise.resolve();
    return new Promise((res) => {
      const done = (): void => {
        this.sock.off('drain', done);
        this.off('close', done);
        res();
      };
      this.sock.once('drain', done);
      this.once('close', done);
    });
  }

  get writableLength(): number {
    return this.sock.writableLength;
  }

  destroy(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.liveTimer) clearInterval(this.liveTimer);
    this.sock.destroy();
    this.emit('close', err);
  }

  /* ---------------- handshake ---------------- */

  static async connect(host: string, port: number, keys: FolderKeys, me: LocalIdentity): Promise<Connection> {
    const sock = net.connect({ host, port });
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => {
        sock.destroy();
        rej(new SyncError('HANDSHAKE_FAILED', `connect to ${host}:${port} timed out`));
      }, HANDSHAKE_TIMEOUT);
      sock.once('connect', () => {
        clearTimeout(t);
        sock.off('error', onErr);
        res();
      });
      const onErr = (e: Error): void => {
        clearTimeout(t);
        rej(e);
      };
      sock.once('error', onErr);
    });
    return Connection.handshake(sock, true, async () => keys, me);
  }

  /** Accept side: `lookup` maps the folder id the initiator names to its keys (or null to refuse). */
  static accept(sock: net.Socket, lookup: (folderId: Buffer) => FolderKeys | null, me: (keys: FolderKeys) => LocalIdentity): Promise<Connection> {
    let chosen: FolderKeys | null = null;
    return Connection.handshake(
      sock,
      false,
      async (folderId) => {
        chosen = lookup(folderId!);
        if (!chosen) throw new SyncError('UNKNOWN_FOLDER', 'peer asked for a folder we do not serve');
        return chosen;
      },
      undefined,
      me,
    );
  }

  private static async handshake(
    sock: net.Socket,
    initiator: boolean,
    getKeys: (folderId?: Buffer) => Promise<FolderKeys>,
    meI?: LocalIdentity,
    meR?: (keys: FolderKeys) => LocalIdentity,
  ): Promise<Connection> {
    const reader = new FrameReader(sock);
    const timer = setTimeout(() => sock.destroy(new SyncError('HANDSHAKE_FAILED', 'handshake timed out')), HANDSHAKE_TIMEOUT);
    try {
      const eph = x25519Pair();
      let keys: FolderKeys;
      let ephI: Buffer;
      let ephR: Buffer;
      let me: LocalIdentity;
      if (initiator) {
        keys = await getKeys();
        me = meI!;
        ephI = eph.pub;
        sock.write(frame(encodeHandshakeInit({ folderId: keys.folderId, eph: eph.pub })));
        const reply = await reader.next();
        const refused = decodeRefusal(reply);
        if (refused) throw new SyncError('HANDSHAKE_FAILED', `peer refused the connection (it speaks burrow sync protocol ${refused.version}): ${refused.reason}`);
        ephR = decodeHandshakeReply(reply);
      } else {
        const first = await reader.next();
        const v = otherVersion(first);
        if (v !== null) {
          sock.write(frame(encodeRefusal(`this device speaks burrow sync protocol ${PROTOCOL_VERSION}, not ${v}: upgrade Burrow on the other device`)));
          await new Promise<void>((res) => sock.end(res));
          throw new SyncError('HANDSHAKE_FAILED', `peer speaks burrow sync protocol ${v}; this device needs ${PROTOCOL_VERSION} (upgrade Burrow on the peer)`);
        }
        const init = decodeHandshakeInit(first);
        keys = await getKeys(init.folderId);
        me = meR!(keys);
        ephI = init.eph;
        ephR = eph.pub;
        sock.write(frame(encodeHandshakeReply(eph.pub)));
      }
      const shared = x25519Shared(eph.priv, initiator ? ephR : ephI);
      const th = crypto.createHash('sha256').update(MAGIC).update(keys.folderId).update(ephI).update(ephR).digest();
      const okm = Buffer.from(crypto.hkdfSync('sha256', Buffer.concat([shared, keys.channelKey]), th, 'burrow-sync/v2/session', 64));
      const kI2R = okm.subarray(0, 32);
      const kR2I = okm.subarray(32, 64);
      const sendKey = initiator ? kI2R : kR2I;
      const recvKey = initiator ? kR2I : kI2R;
      const myRole = initiator ? 'I' : 'R';
      const peerRole = initiator ? 'R' : 'I';
      const proofs: HelloMsg['proofs'] = { enc: proof(keys.auth.enc, myRole, th).toString('base64') };
      if (keys.auth.ro) proofs.ro = proof(keys.auth.ro, myRole, th).toString('base64');
      if (keys.auth.rw) proofs.rw = proof(keys.auth.rw, myRole, th).toString('base64');
      const sig = crypto.sign(null, deviceSigInput(myRole, th), me.key).toString('base64');
      const hello: HelloMsg = { type: MsgType.Hello, v: PROTOCOL_VERSION, device: me.device, key: me.pub.toString('base64'), sig, proofs };
      if (me.port) hello.port = me.port;
      // Send our hello sealed with counter 0.
      const c = crypto.createCipheriv('chacha20-poly1305', sendKey, nonce(0n), { authTagLength: TAG });
      const body = c.update(encodeMessage(hello));
      c.final();
      sock.write(frame(Buffer.concat([body, c.getAuthTag()])));
      // Read and check theirs.
      const f = await reader.next();
      if (f.length < TAG) throw new SyncError('HANDSHAKE_FAILED', 'short hello');
      const d = crypto.createDecipheriv('chacha20-poly1305', recvKey, nonce(0n), { authTagLength: TAG });
      d.setAuthTag(f.subarray(f.length - TAG));
      let plain: Buffer;
      try {
        plain = Buffer.concat([d.update(f.subarray(0, f.length - TAG)), d.final()]);
      } catch {
        throw new SyncError('HANDSHAKE_FAILED', 'peer does not hold a secret of this folder');
      }
      const msg = decodeMessage(plain);
      if (msg.type !== MsgType.Hello) throw new SyncError('HANDSHAKE_FAILED', 'expected hello');
      // The device id is the hash of a key the peer proves over this very handshake.
      const peerPub = Buffer.from(msg.key, 'base64');
      if (deviceIdOf(peerPub) !== msg.device) throw new SyncError('HANDSHAKE_FAILED', `device id ${msg.device} is not the hash of the key the peer presented`);
      if (!crypto.verify(null, deviceSigInput(peerRole, th), ed25519PublicKey(peerPub), Buffer.from(msg.sig, 'base64'))) {
        throw new SyncError('HANDSHAKE_FAILED', `peer did not prove the key of device ${msg.device}`);
      }
      const check = (key: Buffer | undefined, p: string | undefined): boolean => {
        if (!key || !p) return false;
        const want = proof(key, peerRole, th);
        const got = Buffer.from(p, 'base64');
        return got.length === want.length && crypto.timingSafeEqual(got, want);
      };
      if (!check(keys.auth.enc, msg.proofs.enc)) throw new SyncError('HANDSHAKE_FAILED', 'bad proof for the encrypted level');
      let level: SecretLevel = 'enc';
      if (keys.auth.ro) {
        if (msg.proofs.ro !== undefined) {
          if (!check(keys.auth.ro, msg.proofs.ro)) throw new SyncError('HANDSHAKE_FAILED', 'bad read-only proof');
          level = 'ro';
        }
      }
      if (keys.auth.rw && msg.proofs.rw !== undefined) {
        if (!check(keys.auth.rw, msg.proofs.rw)) throw new SyncError('HANDSHAKE_FAILED', 'bad read-write proof');
        if (level === 'ro') level = 'rw';
      }
      clearTimeout(timer);
      const rest = reader.detach();
      rest.decoder.setLimit(MAX_FRAME);
      rest.decoder.setFrameBudget(Infinity);
      rest.frames.push(...rest.decoder.push(Buffer.alloc(0)));
      const conn = new Connection(sock, sendKey, recvKey, msg, level, initiator, 1n, 1n);
      conn.pending = rest;
      return conn;
    } catch (e) {
      clearTimeout(timer);
      reader.detach();
      sock.destroy();
      if (e instanceof SyncError) throw e;
      if (e instanceof ProtocolError) throw new SyncError('HANDSHAKE_FAILED', e.message);
      throw new SyncError('HANDSHAKE_FAILED', (e as Error).message);
    }
  }
}
