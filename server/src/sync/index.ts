/**
 * Burrow's embedded sync engine: secret-based peer-to-peer folder sync
 * (read-write, read-only, encrypted), found over the BitTorrent DHT, the
 * LAN, known hosts and peer exchange. This is the only public entry point;
 * the host (NAS, device agent, CLI) imports from here and nothing deeper.
 * See PROTOCOL.md for the wire protocol.
 */
export { SyncEngine } from './engine.js';
export type { SyncEngineOptions, AddFolderOptions, FolderInfo, PeerInfo, SyncEngineEvents } from './engine.js';
export type { FolderMode, FileEvent, FileDeletedEvent, FolderSyncedEvent, FolderErrorEvent, Progress } from './model/folder.js';
export { newFolderSecrets, parseSecret, deriveSecret, secretLevel, secretsFromReadWrite } from './secrets/index.js';
export type { FolderSecrets, FolderKeys, SecretLevel } from './secrets/index.js';
export { SyncError } from './errors.js';
export type { SyncErrorCode } from './errors.js';
