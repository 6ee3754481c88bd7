/**
 * Who holds what, from a folder's saved index, for a host that decides where copies live (the
 * NAS's zone rule, a member's removal). It reads the database the engine saves every few
 * seconds, from any process: a running engine need not be asked, and a CLI beside it can read.
 * What a peer holds is what its index last said (peer_have): a peer announces a version only
 * once the file is complete on its disk, and a version this index supersedes is not kept.
 */
import path from 'node:path';
import { parseSecret } from '../secrets/index.js';
import { IndexDb } from './index-db.js';

export interface FolderHoldings {
  /** Every live file, in no particular order, with the peers (sync device ids) that hold exactly its current version; streamed. */
  files(peers: readonly string[]): IterableIterator<{ path: string; size: number; holders: string[] }>;
  /** Versions `peer` holds that neither this side nor any of `others` holds (path null: never held here). */
  onlyAt(peer: string, others: readonly string[]): IterableIterator<{ id: string; path: string | null }>;
  close(): void;
}

/** The saved index of the folder with this secret under an engine's `stateDir`; undefined if it was never opened there. */
export function readHoldings(stateDir: string, secret: string): FolderHoldings | undefined {
  const publicId = parseSecret(secret).folderId.toString('hex');
  const db = IndexDb.openForReading(path.join(stateDir, 'folders', `${publicId}.db`));
  if (!db) return undefined;
  return {
    *files(peers) {
      for (const [p, size, ...held] of db.holdings(peers)) {
        const holders: string[] = [];
        for (let i = 0; i < held.length; i++) if (held[i] === 1) holders.push(peers[i]!);
        yield { path: p, size, holders };
      }
    },
    onlyAt: (peer, others) => db.versionsOnlyAt(peer, others),
    close: () => db.close(),
  };
}
