import type { SyncEngineOptions } from '../sync/index.js';

/** The public DHT routers, used only when the DHT is on and the user configured no bootstrap of their own. */
export const PUBLIC_DHT_ROUTERS = ['router.bittorrent.com:6881', 'router.utorrent.com:6881', 'dht.transmissionbt.com:6881'];

/** LAN beacon port shared by the NAS and the agents (UDP). */
export const LAN_BEACON_PORT = 7423;

export interface SyncNetworkSettings {
  host: string;
  port: number;
  dht: boolean;
  dhtBootstrap: string[];
  lan: boolean;
}

/**
 * `BURROW_NETWORK=private` promises that nothing goes to the public internet or the LAN at large:
 * the public DHT routers are never contacted (the DHT runs only with an explicit bootstrap list)
 * and no LAN beacons are broadcast. Known hosts and explicit peers still work. The test suite
 * sets it for every process it starts; a user can set it for a trial on one machine.
 */
export function isPrivateNetwork(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BURROW_NETWORK === 'private';
}

/** The discovery part of the engine options, shared by the NAS and the device agent. */
export function syncNetworkOptions(s: SyncNetworkSettings, env: NodeJS.ProcessEnv = process.env): Pick<SyncEngineOptions, 'listen' | 'dht' | 'lan'> {
  const priv = isPrivateNetwork(env);
  const bootstrap = s.dhtBootstrap.length > 0 ? s.dhtBootstrap : priv ? null : PUBLIC_DHT_ROUTERS;
  return {
    listen: { host: s.host, port: s.port },
    ...(s.dht && bootstrap ? { dht: { bootstrap } } : {}),
    ...(s.lan && !priv ? { lan: { port: LAN_BEACON_PORT } } : {}),
  };
}
