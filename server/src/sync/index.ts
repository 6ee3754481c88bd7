/**
 * Burrow's embedded sync engine: secret-based peer-to-peer folder sync
 * (read-write, read-only, encrypted), found over the BitTorrent DHT, the
 * LAN, known hosts and peer exchange. This is the only public entry point;
 * the host (NAS, device agent, CLI) imports from here and nothing deeper.
 * See PROTOCOL.md for the wire protocol.
 *
 * Usage (host side):
 *
 *   const engine = new SyncEngine({ stateDir, listen: { host: '0.0.0.0', port: 21212 },
 *                                   dht: { bootstrap: ['router.example:6881'] }, knownHosts: [], lan: { port: 21213 } });
 *   await engine.open();
 *   const { readWrite, readOnly, encrypted } = newFolderSecrets();
 *   await engine.addFolder({ id: 'devices/laptop', path: '/nas/devices/laptop', secret: readWrite, mode: 'send-receive' });
 *   engine.on('fileChanged', (e) => adopt(e.folderId, e.path, e.version));    // a peer's version is now on disk
 *   engine.on('fileDeleted', (e) => forget(e.folderId, e.path));
 *   engine.on('folderSynced', (e) => ...);                                   // in sync with every connected peer
 *   await engine.pauseFolder('devices/laptop'); await engine.resumeFolder('devices/laptop'); // kept across restarts
 *   engine.listConflicts(id); await engine.keepConflict(id, copy, 'copy', moveToTrash);     // conflict copies
 *   engine.traffic(id);                                                      // bytes in/out since open
 *   await engine.removeFolder('devices/laptop');                             // revoke: connections close first
 *   await engine.blockDevice(peerDeviceId);                                  // never link with that device again
 *   readHoldings(stateDir, secret)?.files([peer1, peer2]);                   // which peers hold each file (from any process)
 *   await engine.close();
 *
 * The engine keeps its own state under `stateDir` (device id, one JSON index
 * per folder) and a `.burrow-sync/` temp directory inside each folder. It
 * never writes into an existing inode: received files are written to a temp
 * file and renamed over the target, so other hard links keep the old content.
 */
export { SyncEngine } from './engine.js';
export type { SyncEngineOptions, AddFolderOptions, FolderInfo, FolderTraffic, PeerInfo, SyncEngineEvents, CandidateInfo, CandidateSource } from './engine.js';
export type { FolderMode, LocalChange, FileEvent, FileDeletedEvent, FolderSyncedEvent, FolderErrorEvent, Progress } from './model/folder.js';
export type { ConflictInfo, ConflictVersion, KeepSide, DiscardVersion } from './model/conflicts.js';
export { parseConflictCopy } from './model/conflicts.js';
export { newFolderSecrets, parseSecret, deriveSecret, secretLevel, secretsFromReadWrite } from './secrets/index.js';
export type { FolderSecrets, FolderKeys, SecretLevel } from './secrets/index.js';
export { SyncError } from './errors.js';
export type { SyncErrorCode } from './errors.js';
export { readHoldings } from './model/holdings.js';
export type { FolderHoldings } from './model/holdings.js';
