import path from 'node:path';

/**
 * Where everything lives under a NAS root (see docs/ARCHITECTURE.md, "The NAS root on disk").
 * Every module asks this for paths instead of joining strings, so the layout is written once.
 */
export interface RootLayout {
  root: string;
  files: string;
  catalogue: string;
  devices: string;
  shared: string;
  state: string;
  db: string;
  config: string;
  lock: string;
  trash: string;
  torrents: string;
  logs: string;
  keys: string;
  device(name: string): string;
  share(id: string): string;
}

export function layoutOf(root: string): RootLayout {
  const abs = path.resolve(root);
  const state = path.join(abs, '.burrow');
  return {
    root: abs,
    files: path.join(abs, 'files'),
    catalogue: path.join(abs, 'catalogue'),
    devices: path.join(abs, 'devices'),
    shared: path.join(abs, 'shared'),
    state,
    db: path.join(state, 'burrow.db'),
    config: path.join(state, 'config.yaml'),
    lock: path.join(state, 'burrow.lock'),
    trash: path.join(state, 'trash'),
    torrents: path.join(state, 'torrents'),
    logs: path.join(state, 'logs'),
    keys: path.join(state, 'keys'),
    device: (name) => path.join(abs, 'devices', name),
    share: (id) => path.join(abs, 'shared', id),
  };
}
