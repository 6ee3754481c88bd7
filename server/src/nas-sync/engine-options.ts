import type { SyncEngineOptions } from '../sync/index.js';
import type { BurrowConfig } from '../config/schema.js';

import { syncNetworkOptions } from '../config/sync-network.js';


/**
 * Engine options from the NAS's `sync.*` config. The bootstrap list is always explicit, so
 * nothing reaches the public DHT unless the user left the DHT on with no bootstrap of their own.
 */
export function engineOptionsFromConfig(sync: BurrowConfig['sync'], stateDir: string): SyncEngineOptions {
  return {
    stateDir,
    ...syncNetworkOptions(sync),
    knownHosts: sync.knownHosts,
    // Links made by the orchestrator are pushed at once on 'links-changed'; the watcher and a
    // slow rescan catch everything else.
    dialIntervalMs: 1000,
  };
}
