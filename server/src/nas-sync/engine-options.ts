import type { SyncEngineOptions } from '../sync/index.js';
import type { BurrowConfig } from '../config/schema.js';

/** The public DHT routers, used only when the DHT is on and no bootstrap list is configured. */
export const PUBLIC_DHT_ROUTERS = ['router.bittorrent.com:6881', 'router.utorrent.com:6881', 'dht.transmissionbt.com:6881'];

/** LAN beacon port shared by the NAS and the agents (UDP). */
export const LAN_BEACON_PORT = 7423;

/**
 * Engine options from the NAS's `sync.*` config. The bootstrap list is always explicit, so
 * nothing reaches the public DHT unless the user left the DHT on with no bootstrap of their own.
 */
export function engineOptionsFromConfig(sync: BurrowConfig['sync'], stateDir: string): SyncEngineOptions {
  return {
    stateDir,
    listen: { host: sync.host, port: sync.port },
    knownHosts: sync.knownHosts,
    ...(sync.dht ? { dht: { bootstrap: sync.dhtBootstrap.length ? sync.dhtBootstrap : PUBLIC_DHT_ROUTERS } } : {}),
    ...(sync.lan ? { lan: { port: LAN_BEACON_PORT } } : {}),
    // Links made by the orchestrator are pushed at once on 'links-changed'; the watcher and a
    // slow rescan catch everything else.
    dialIntervalMs: 1000,
  };
}
