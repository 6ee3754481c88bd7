import path from 'node:path';
import type { Store } from '../store/index.js';
import type { RootLayout } from '../root/layout.js';
import type { RequestStatusSource } from '../nas-context.js';
import { buildCatalogueData, type BuiltCatalogue, type CatalogueState, type RequestRow } from './build.js';
import { updateCatalogueData } from './incremental.js';
import { NeedFullBuild } from './shards.js';
import type { ScanChange } from '../index/scanner.js';
import { renderCataloguePage } from './template.js';
import { CatalogueWriter } from './writer.js';
import { writeDeviceIdentities } from './device-js.js';
import { anchoredAt } from '../anchored-fs/index.js';

export interface PublishStats {
  files: number;
  folders: number;
  storeBytes: number;
  chunks: number;
  /** Every file of the catalogue and their total size. */
  totalFiles: number;
  totalBytes: number;
  /** What this publish actually rewrote (unchanged parts are skipped). */
  writtenFiles: number;
  writtenBytes: number;
  written: string[];
  removedFiles: number;
  elapsedMs: number;
  /** "incremental": only the shards around the changed paths were read again; "full": everything. */
  mode: 'full' | 'incremental';
  /** Where the time went: reading the index and rendering, writing files (with their fsyncs), the rest. */
  phases: { renderMs: number; writeMs: number };
  /** Index rows read (a full build reads every one). */
  rowsRead: number;
}

export interface PublishInput {
  store: Store;
  layout: RootLayout;
  trashDays: number;
  torrents?: boolean | undefined;
  requests?: RequestStatusSource | undefined;
  /** Each device's request rows, already read (see buildCatalogueData). */
  requestRows?: ReadonlyMap<string, RequestRow[]> | undefined;
  /** The device names, when already known; else read from the store. */
  devices?: string[] | undefined;
  agentPort?: number | undefined;
  chunkEvery?: number | undefined;
  /**
   * The index changes since this Publisher's previous publish, when the caller saw all of them:
   * only those paths are read again. Absent or null: a full build.
   */
  changes?: readonly ScanChange[] | null | undefined;
}

/**
 * One catalogue publish: a full build renders everything from the index; an incremental one
 * (given the changed paths) starts from the previous build and re-reads only around them. Either
 * way only files whose bytes changed are written. Keep one Publisher per root: it holds the
 * previous build, and forgets it whenever a publish fails (the next one is full).
 */
export class Publisher {
  private readonly writer: CatalogueWriter;
  private state: CatalogueState | null = null;
  private page: { agentPort: number | undefined; html: string } | null = null;

  constructor(private readonly layout: RootLayout) {
    this.writer = new CatalogueWriter(layout.catalogue);
  }

  publish(input: Omit<PublishInput, 'layout'>): PublishStats {
    const t0 = performance.now();
    anchoredAt(this.layout.root).mkdirp(path.relative(this.layout.root, this.layout.catalogue));
    const devices = input.devices ?? input.store.devices.list().map((d) => d.name);
    const buildInput = { store: input.store, devices, trashDays: input.trashDays, torrents: input.torrents, requests: input.requests, requestRows: input.requestRows, chunkEvery: input.chunkEvery };
    const prev = this.state;
    // Until this publish has written everything, the kept build no longer matches the disk.
    this.state = null;
    let built: BuiltCatalogue | null = null;
    if (prev && input.changes) {
      try {
        built = updateCatalogueData(prev, { ...buildInput, changes: input.changes });
      } catch (err) {
        if (!(err instanceof NeedFullBuild)) throw err;
      }
    }
    const mode = built ? 'incremental' : 'full';
    // A full build writes its shards as it cuts them (renderMs then includes those writes).
    const full = built ? null : this.writer.begin();
    if (!built) built = buildCatalogueData({ ...buildInput, shardSink: full!.shard });
    const t1 = performance.now();
    // The page is static: rendered again on every full build (which picks up a new template).
    if (mode === 'full' || !this.page || this.page.agentPort !== input.agentPort) this.page = { agentPort: input.agentPort, html: renderCataloguePage({ agentPort: input.agentPort }) };
    built.files.set('catalogue.html', this.page.html);
    const w = full ? full.finish(built.files) : this.writer.writeDelta(built.files, built.removed);
    writeDeviceIdentities(this.layout, devices);
    this.state = built.state;
    const t2 = performance.now();
    const ms = (x: number) => Math.round(x * 10) / 10;
    return {
      files: built.fileCount,
      folders: built.dirCount,
      storeBytes: built.bytes,
      chunks: built.chunks,
      totalFiles: w.totalFiles,
      totalBytes: w.totalBytes,
      writtenFiles: w.writtenFiles,
      writtenBytes: w.writtenBytes,
      written: w.written,
      removedFiles: w.removedFiles,
      elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
      mode,
      phases: { renderMs: ms(t1 - t0), writeMs: ms(t2 - t1) },
      rowsRead: built.rowsRead,
    };
  }
}

/** Publish once (the `burrow publish` command and tests). */
export function publishCatalogue(input: PublishInput): PublishStats {
  return new Publisher(input.layout).publish(input);
}

export const cataloguePagePath = (layout: RootLayout): string => path.join(layout.catalogue, 'catalogue.html');
