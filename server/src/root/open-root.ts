import fs from 'node:fs';
import { layoutOf, type RootLayout } from './layout.js';
import { assertSameFilesystem } from '../fsutil/same-filesystem.js';
import { loadConfig } from '../config/load.js';
import type { BurrowConfig } from '../config/schema.js';
import { CONFIG_TEMPLATE } from '../config/template.js';
import { openStore, type Store } from '../store/index.js';
import { errors } from '../errors.js';
import { secureStateModes } from './state-modes.js';
import { ensureApiToken } from './api-token.js';

export interface OpenRoot {
  layout: RootLayout;
  config: BurrowConfig;
  store: Store;
  close(): void;
}

/** `burrow init`: create the layout, config, database and key folder. Safe to run twice. */
export function initRoot(root: string): RootLayout {
  const l = layoutOf(root);
  try {
    fs.mkdirSync(l.root, { recursive: true });
    fs.accessSync(l.root, fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') throw errors.rootNotWritable(l.root, err);
    throw err;
  }
  checkNotSymlink(l.files);
  for (const dir of [l.files, l.catalogue, l.devices, l.shared, l.state, l.trash, l.torrents, l.logs, l.keys]) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') throw errors.rootNotWritable(l.root, err);
      throw err;
    }
  }
  fs.chmodSync(l.keys, 0o700);
  assertSameFilesystem([l.files, l.devices, l.shared]);
  if (!fs.existsSync(l.config)) fs.writeFileSync(l.config, CONFIG_TEMPLATE, { mode: 0o600 });
  loadConfig(l.config); // refuse a bad existing config now, not at start
  openStore(l.db).close();
  ensureApiToken(l);
  secureStateModes(l);
  return l;
}

/** Open an existing root for any command: checks the layout, loads config, opens the store. */
export function openRoot(root: string, opts: { readonly?: boolean } = {}): OpenRoot {
  const l = layoutOf(root);
  if (!fs.existsSync(l.state) || !fs.existsSync(l.db)) throw errors.rootMissing(l.root);
  checkNotSymlink(l.files);
  for (const dir of [l.files, l.devices, l.shared]) if (!fs.existsSync(dir)) throw errors.rootMissing(l.root);
  assertSameFilesystem([l.files, l.devices, l.shared]);
  if (!opts.readonly) {
    try {
      fs.accessSync(l.state, fs.constants.W_OK);
    } catch (err) {
      throw errors.rootNotWritable(l.root, err);
    }
  }
  const config = loadConfig(l.config);
  const store = openStore(l.db, opts);
  return { layout: l, config, store, close: () => store.close() };
}

function checkNotSymlink(p: string): void {
  try {
    if (fs.lstatSync(p).isSymbolicLink()) throw errors.filesIsSymlink(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
