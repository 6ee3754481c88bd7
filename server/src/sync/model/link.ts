/**
 * One connected peer of a folder, and what we remember of its index. In a module of its own so
 * the parts that name a link (wanted.ts) need not import the folder's whole state.
 */
import type { Connection } from '../transport/index.js';
import type { WriteBehind } from './write-behind.js';

/**
 * What we hold of one peer's index (Syncthing's index id + max sequence): the
 * peer's index id, the highest of its sequences whose records we have fully
 * dealt with, and which version of each record it announced. Kept across
 * connections and restarts, so a reconnect exchanges only what changed.
 */
export interface RemoteIndex {
  index: string;
  seq: number;
  have: WriteBehind<string>;
}
export interface Link {
  conn: Connection;
  /** Which version of each record the peer announced: its stored holdings once its IndexStart arrived. */
  have: Map<string, string> | WriteBehind<string>;
  /** Set once the peer's IndexStart arrived: what we remember of its index. */
  remote: RemoteIndex | null;
  /** The highest sequence of the peer's index it says we now hold (from its Index messages). */
  recvSeq: number;
  fullIndex: boolean;
  /** Our records up to this sequence went to this peer. */
  sentSeq: number;
  inflightBytes: number;
  inflightCount: number;
  reqs: Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void; size: number }>;
  nextReq: number;
  bad: number;
  ready: boolean;
  finalSent: boolean;
  /** A broadcast stopped at a full socket and goes on when it drains (index-exchange.ts). */
  awaitingDrain: boolean;
  /** Addresses this peer may still suggest (a token bucket, see PEERS_PER_INTERVAL). */
  peersBudget: number;
  peersAt: number;
}
