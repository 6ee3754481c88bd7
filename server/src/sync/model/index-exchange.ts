/**
 * The index exchange with each connected peer: IndexStart (what each side
 * already holds of the other's index), full and delta Index messages, the
 * broadcast of new records, peer exchange, and deciding which received
 * versions to pull.
 */
import { MsgType, RespStatus, MAX_PEERS, type IndexStartMsg, type Message, type WireRecord } from '../protocol/index.js';
import type { Connection } from '../transport/index.js';
import { SyncError } from '../errors.js';
import { openRecord, pickWinner, verifyRecord, vvCompare, type PlainRecord, type SealedRecord } from './records.js';
import { haveTable } from './tables.js';
import { PEERS_INTERVAL_MS, PEERS_PER_INTERVAL, type FolderState, type Link } from './folder-state.js';
import { dropSource, newWant } from './wanted.js';

/** Index messages wait for the socket to drain past this many buffered bytes. */
const SEND_BUFFER = 8 * 1024 * 1024;
import { now } from './util.js';
import { scheduleSave, doneWith, flush } from './index-store.js';
import { decide } from './conflict-resolution.js';
import { pump, dispatch } from './puller.js';
import { serve } from './block-server.js';
import { checkSynced } from './status.js';

export function sendFinal(f: FolderState, link: Link): void {
  if (link.finalSent || !link.ready || link.conn.closed) return;
  link.finalSent = true;
  // What this link was sent, not f.seq: records installed since (not broadcast yet, or not saved)
  // must not be claimed, or a peer that reconnects would never ask for them.
  link.conn.send({ type: MsgType.Index, final: true, seq: link.sentSeq, records: [] });
}

export function attach(f: FolderState, conn: Connection): void {
  if (f.closed) {
    conn.destroy(new SyncError('CLOSED', 'folder removed'));
    return;
  }
  for (const l of f.links) {
    if (l.conn.remoteDevice === conn.remoteDevice) {
      // Duplicate: keep the connection dialled by the smaller device id.
      const keepNew = (conn.initiator ? f.device : conn.remoteDevice) < (conn.initiator ? conn.remoteDevice : f.device);
      const keepOld = (l.conn.initiator ? f.device : l.conn.remoteDevice) < (l.conn.initiator ? l.conn.remoteDevice : f.device);
      if (keepOld || !keepNew) {
        conn.destroy(new SyncError('CLOSED', 'duplicate connection'));
        return;
      }
      l.conn.destroy(new SyncError('CLOSED', 'duplicate connection'));
    }
  }
  const link: Link = {
    conn,
    have: new Map(),
    remote: null,
    recvSeq: 0,
    fullIndex: false,
    sentSeq: 0,
    inflightBytes: 0,
    inflightCount: 0,
    reqs: new Map(),
    nextReq: 1,
    bad: 0,
    ready: false,
    finalSent: false,
    awaitingDrain: false,
    peersBudget: PEERS_PER_INTERVAL,
    peersAt: Date.now(),
  };
  f.links.add(link);
  conn.on('message', (m) => onMessage(f, link, m));
  conn.on('close', () => detach(f, link));
  conn.resume();
  if (conn.closed) return;
  // Our index goes out once the peer said what it already holds of it (its IndexStart).
  const r = f.remotes.get(conn.remoteDevice);
  conn.send({ type: MsgType.IndexStart, index: f.indexId, have: r ? { index: r.index, seq: r.seq } : null });
  const peers = peerAddresses(f, link);
  if (peers.length) conn.send({ type: MsgType.Peers, peers });
  for (const l of f.links) {
    if (l !== link && !l.conn.closed && link.conn.remotePort) {
      l.conn.send({ type: MsgType.Peers, peers: [`${link.conn.remoteHost}:${link.conn.remotePort}`] });
    }
  }
  f.lastSynced = false;
}

export function peerAddresses(f: FolderState, except?: Link): string[] {
  const out: string[] = [];
  for (const l of f.links) if (l !== except && l.conn.remotePort) out.push(`${l.conn.remoteHost}:${l.conn.remotePort}`);
  return out.slice(0, MAX_PEERS);
}

export function detach(f: FolderState, link: Link): void {
  if (!f.links.delete(link)) return;
  if (link.remote && doneWith(f, link)) link.remote.seq = Math.max(link.remote.seq, link.recvSeq);
  for (const r of link.reqs.values()) r.reject(new SyncError('CLOSED', 'peer disconnected'));
  link.reqs.clear();
  for (const w of f.wanted.values()) dropSource(w.sources, link);
  f.emit('linkClosed', link.conn);
  dispatch(f);
  checkSynced(f);
}

export function onIndexStart(f: FolderState, link: Link, m: IndexStartMsg): void {
  if (link.remote) {
    link.conn.destroy(new SyncError('BAD_MESSAGE', 'second IndexStart'));
    return;
  }
  const device = link.conn.remoteDevice;
  let r = f.remotes.get(device);
  if (!r || r.index !== m.index) {
    // A new index on the peer (first contact, or its database was reset): forget what we had of the old one.
    if (r) {
      r.have.discard();
      f.db?.resetHave(device);
    }
    r = { index: m.index, seq: 0, have: haveTable(f.db!, device, () => flush(f)) };
    f.remotes.set(device, r);
    scheduleSave(f);
  }
  if (link.have instanceof Map) for (const [id, h] of link.have) r.have.set(id, h);
  link.have = r.have;
  link.remote = r;
  link.recvSeq = r.seq;
  // With index deltas the peer will not announce again what it announced before this
  // connection, so versions we still want (a revert, a transfer cut by a restart) get it as a
  // source now, from what we remember it holds; otherwise they would wait for a change forever.
  let sourced = false;
  for (const w of f.wanted.values()) {
    if (!w.del && link.have.get(w.id) === w.hash && !w.sources.includes(link)) {
      w.sources.push(link);
      sourced = true;
    }
  }
  // Only what changed since the sequence the peer holds of this very index; all of it otherwise.
  void sendIndexSince(f, link, m.have && m.have.index === f.indexId ? m.have.seq : 0).catch((e: Error) => f.err(e, device));
  if (sourced) pump(f);
}

/**
 * Our index after sequence `since`, read from the database a page at a time and
 * sent at the pace the peer reads it, so neither the index nor the socket's
 * buffer of it sits in memory whole.
 */
export async function sendIndexSince(f: FolderState, link: Link, since: number): Promise<void> {
  let batch: WireRecord[] = [];
  let size = 0;
  let last = since;
  for (const e of f.entries.since(since)) {
    batch.push({ body: e.s.body, sig: e.s.sig });
    size += e.s.body.length + 68;
    last = e.seq;
    if (batch.length >= 2000 || size > 4 * 1024 * 1024) {
      link.conn.send({ type: MsgType.Index, final: false, seq: e.seq, records: batch });
      batch = [];
      size = 0;
      if (link.conn.writableLength > SEND_BUFFER) await link.conn.drain();
      if (link.conn.closed || f.closed) return;
    }
  }
  const upTo = claimable(f, last);
  link.conn.send({ type: MsgType.Index, final: false, seq: upTo, records: batch });
  link.sentSeq = upTo;
  link.ready = true;
  if (f.scannedOnce) sendFinal(f, link);
}

/**
 * The sequence a burst that ended at `last` may claim: our current one, unless records past what
 * was sent could not be saved (a full disk); those are neither sent nor claimed until saved.
 */
function claimable(f: FolderState, last: number): number {
  return f.unsavedSince === null ? f.seq : last;
}

export function scheduleBroadcast(f: FolderState, delayMs = 5): void {
  if (f.broadcastTimer || f.closed) return;
  f.broadcastTimer = setTimeout(() => {
    f.broadcastTimer = null;
    broadcast(f);
  }, delayMs);
}

export function broadcast(f: FolderState): void {
  for (const link of f.links) {
    if (!link.ready || link.conn.closed || link.sentSeq >= f.seq || link.awaitingDrain) continue;
    let batch: WireRecord[] = [];
    let size = 0;
    const before = link.sentSeq;
    let last = before;
    let full = false;
    for (const e of f.entries.since(link.sentSeq)) {
      batch.push({ body: e.s.body, sig: e.s.sig });
      size += e.s.body.length + 68;
      last = e.seq;
      if (batch.length >= 2000 || size > 4 * 1024 * 1024) {
        // Stop once the socket holds SEND_BUFFER: a folder scanning a million new files would
        // otherwise queue its whole index there (memory), and the block responses the peer waits
        // for would queue behind it. The rest goes when the socket drains.
        full = link.conn.writableLength + size > SEND_BUFFER;
        // No sequence claim in the middle of a burst (PROTOCOL.md: only its last message claims
        // one); a burst cut here ends with this message, which claims what it reached.
        link.conn.send({ type: MsgType.IndexUpdate, final: false, seq: full ? last : 0, records: batch });
        batch = [];
        size = 0;
        if (full) break;
      }
    }
    if (full) {
      link.sentSeq = last;
      link.awaitingDrain = true;
      void link.conn.drain().then(() => {
        link.awaitingDrain = false;
        scheduleBroadcast(f);
      });
      continue;
    }
    const upTo = claimable(f, last);
    if (batch.length || upTo > before) link.conn.send({ type: MsgType.IndexUpdate, final: false, seq: upTo, records: batch });
    link.sentSeq = upTo;
  }
  // Records held back by a failed save: try again soon (the save retries at most once a second).
  if (f.unsavedSince !== null) scheduleBroadcast(f, 1000);
}

export function onMessage(f: FolderState, link: Link, m: Message): void {
  if (f.closed) return;
  switch (m.type) {
    case MsgType.Index:
    case MsgType.IndexUpdate:
      for (const r of m.records) onRecord(f, link, r);
      if (m.seq) link.recvSeq = Math.max(link.recvSeq, m.seq);
      if (m.type === MsgType.Index && m.final) link.fullIndex = true;
      if (m.records.length) scheduleSave(f);
      pump(f);
      checkSynced(f);
      return;
    case MsgType.IndexStart:
      onIndexStart(f, link, m);
      return;
    case MsgType.Request:
      void serve(f, link, m.id, m.kind, m.hash, m.size);
      return;
    case MsgType.Response: {
      const r = link.reqs.get(m.id);
      if (!r) return;
      link.reqs.delete(m.id);
      link.inflightBytes -= r.size;
      link.inflightCount--;
      if (m.status === RespStatus.Ok) r.resolve(Buffer.from(m.data));
      else r.reject(new SyncError('BAD_BLOCK', 'peer does not have the block'));
      dispatch(f);
      return;
    }
    case MsgType.Peers: {
      // Rate-limited per peer: a member may suggest addresses, not make us dial the world.
      const t = Date.now();
      link.peersBudget = Math.min(PEERS_PER_INTERVAL, link.peersBudget + ((t - link.peersAt) * PEERS_PER_INTERVAL) / PEERS_INTERVAL_MS);
      link.peersAt = t;
      const take = m.peers.slice(0, Math.floor(link.peersBudget));
      link.peersBudget -= take.length;
      if (take.length) f.emit('peers', take);
      return;
    }
    case MsgType.Error:
      f.err(new SyncError('BAD_MESSAGE', `peer reported ${m.code}: ${m.message}`), link.conn.remoteDevice);
      return;
    case MsgType.Hello:
      link.conn.destroy(new SyncError('BAD_MESSAGE', 'unexpected hello'));
      return;
  }
}

export function onRecord(f: FolderState, link: Link, w: WireRecord): void {
  let s: SealedRecord;
  let p: PlainRecord | undefined;
  try {
    s = verifyRecord(f.keys, w);
    if (f.plainLevel) p = openRecord(f.keys, s);
  } catch (e) {
    link.bad++;
    f.err(e as Error, link.conn.remoteDevice);
    if (link.bad > 100) link.conn.destroy(new SyncError('BAD_RECORD', 'too many bad records'));
    return;
  }
  const cur = f.entries.get(s.id);
  // A version ours supersedes is remembered as nothing held: no one wants it from this peer, and
  // `versionsOnlyAt` (a member's removal) must not count a lagging peer's old files as its own.
  if (cur && cur.s.hash !== s.hash && vvCompare(s.vv, cur.s.vv) === 'lesser') link.have.delete(s.id);
  else link.have.set(s.id, s.hash);
  if (!f.acceptsRemote || f.failedVersions.has(s.hash)) return;
  const want = f.wanted.get(s.id);
  if (want) {
    if (want.hash === s.hash) {
      if (!want.sources.includes(link)) want.sources.push(link);
      return;
    }
    const had = f.wanted.record(want);
    if (had) {
      const o = vvCompare(s.vv, had.s.vv);
      if (o === 'lesser' || o === 'equal') return;
      if (o === 'concurrent' && pickWinner(had, { s, ...(p ? { p } : {}) }) === 'a') return;
    }
    // An active transfer finishes first; the newer version is wanted after it (below).
  }
  if (cur?.s.hash === s.hash) {
    if (want && !want.active) f.wanted.delete(s.id);
    return;
  }
  const d = decide(f, s, p);
  if (!d) return;
  const keepLocal = d.keepLocal;
  const nw = newWant(s, p, sourcesOf(f, s), cur?.s.hash, keepLocal);
  if (want?.active) {
    // queue behind the active one
    want.next = nw;
    return;
  }
  f.wanted.set(nw);
  f.lastSynced = false;
}

/** The connected peers whose index holds exactly this version. */
export function sourcesOf(f: FolderState, s: SealedRecord): Link[] {
  const out: Link[] = [];
  for (const l of f.links) if (!l.conn.closed && l.have.get(s.id) === s.hash) out.push(l);
  return out;
}
