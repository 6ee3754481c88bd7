import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { OpenRoot } from './root/open-root.js';
import type { Indexer } from './index/indexer.js';

/**
 * What every long-lived NAS service gets. Services are opened in list order by `startNas`
 * (services/index.ts) and closed in reverse; each registers itself in `services` under its
 * name, so others (and HTTP routes) find it without importing the composition root.
 *
 * `events` is the NAS's in-process bus. Known events:
 *   'request-updated'  { id: string, device: string }   a request changed state (catalogue republishes)
 *   'links-changed'    { device?: string, share?: string } the orchestrator made or removed links
 *   'placement-changed' {}                             the zones holding the store's folders changed (catalogue republishes)
 */
export interface NasContext extends OpenRoot {
  log: Logger;
  indexer: Indexer;
  events: EventEmitter;
  services: Map<string, unknown>;
}

export interface NasService {
  readonly name: string;
  open(ctx: NasContext): Promise<void> | void;
  close(): Promise<void> | void;
}

/** A request's state as the catalogue shows it (implemented by the request processor, service name 'requests'). */
export interface RequestStatus {
  id: string;
  device: string;
  action: string;
  path: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  reason?: string | undefined;
  result?: unknown;
  createdAt: number;
  updatedAt: number;
}

export interface RequestStatusSource {
  /** The newest requests of one device (pending first), for the catalogue's per-device data. */
  recentForDevice(device: string, limit: number): RequestStatus[];
}

/** The storage balancer as the get action sees it (service name 'balancer'). */
export interface StorageBalancer {
  /**
   * Free at least `bytes` on `device` by removing that device's least-recently-used links,
   * never touching `keep` (paths relative to files/) or pinned folders.
   */
  makeRoom(device: string, bytes: number, keep: string[]): Promise<{ ok: boolean; freedBytes: number; reason?: string }>;
}

/**
 * What the share actions need from the sync engine (service name 'folder-sync').
 * Until it is wired in, no service is registered and share reports "no secret yet".
 */
export interface FolderSync {
  addFolder(kind: 'device' | 'share' | 'catalogue', name: string, absPath: string, mode: 'send-receive' | 'send-only' | 'receive-only'): Promise<{ readWrite: string; readOnly: string; encrypted: string }>;
  removeFolder(kind: 'device' | 'share' | 'catalogue', name: string): Promise<void>;
  secretsOf(kind: 'device' | 'share' | 'catalogue', name: string): { readWrite: string; readOnly: string; encrypted: string } | undefined;
}

/** Which member runs a request (service name 'cluster', only in a group of several NAS). */
export type GateDecision = { kind: 'run' } | { kind: 'wait'; why: string } | { kind: 'settled'; state: 'done' | 'failed'; reason: string | null; result: string | null };

export interface RequestGate {
  /** In a group: every request a device or the owner makes goes through `gate`. */
  readonly active: boolean;
  gate(row: { id: string; device: string; source: string }): GateDecision;
}
