import path from 'node:path';
import type { Store } from '../store/index.js';
import type { RootLayout } from '../root/layout.js';
import type { RequestStatusSource } from '../nas-context.js';
import { buildCatalogueData, type RequestRow } from './build.js';
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
}

/**
 * One catalogue publish: render everything from the index in memory, write what changed.
 * Keep one Publisher per root so unchanged shards are recognised without reading them back.
 */
export class Publisher {
  private readonly writer: CatalogueWriter;

  constructor(private readonly layout: RootLayout) {
    this.writer = new CatalogueWriter(layout.catalogue);
  }

  publish(input: Omit<PublishInput, 'layout'>): PublishStats {
    const t0 = performance.now();
    anchoredAt(this.layout.root).mkdirp(path.relative(this.layout.root, this.layout.catalogue));
    const devices = input.devices ?? input.store.devices.list().map((d) => d.name);
    const built = buildCatalogueData({ store: input.store, devices, trashDays: input.trashDays, torrents: input.torrents, requests: input.requests, requestRows: input.requestRows, chunkEvery: input.chunkEvery });
    built.files.set('catalogue.html', renderCataloguePage({ agentPort: input.agentPort }));
    const w = this.writer.write(built.files);
    writeDeviceIdentities(this.layout, devices);
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
      elapsedMs: Math.round(performance.now() - t0),
    };
  }
}

/** Publish once (the `burrow publish` command and tests). */
export function publishCatalogue(input: PublishInput): PublishStats {
  return new Publisher(input.layout).publish(input);
}

export const cataloguePagePath = (layout: RootLayout): string => path.join(layout.catalogue, 'catalogue.html');
