/**
 * Discovery: how peers of a folder find each other's addresses. Why this
 * exists apart from the transport: finding an address proves nothing (the
 * handshake does that), so discovery may be noisy and untrusted. Four
 * sources feed the engine's dialer: the BitTorrent DHT (dht.ts), LAN
 * beacons (lan.ts), known hosts from config, and peer exchange messages.
 */
export { DhtDiscovery, type DhtOptions } from './dht.js';
export { LanDiscovery, type LanOptions } from './lan.js';
