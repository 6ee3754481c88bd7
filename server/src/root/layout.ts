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
  /** Bearer token of the HTTP API (CLI and scripts), mode 0600. */
  apiToken: string;
  /** scrypt hash of the admin password (browser login), mode 0600. */
  adminPassword: string;
  /** Self-signed TLS certificate and key made on demand when HTTP binds beyond loopback. */
  tls: string;
  /** Where the running NAS says it listens (URL, TLS fingerprint), for the CLI. */
  httpRuntime: string;
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
    apiToken: path.join(state, 'api-token'),
    adminPassword: path.join(state, 'admin-password'),
    tls: path.join(state, 'tls'),
    httpRuntime: path.join(state, 'http.json'),
    device: (name) => path.join(abs, 'devices', name),
    share: (id) => path.join(abs, 'shared', id),
  };
}
