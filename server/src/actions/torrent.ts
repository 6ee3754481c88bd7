import type { Action, ActionEnv, Plan, ValidRequest } from './types.js';
import { PlanBuilder } from './plan.js';
import { makeTorrent } from '../torrent/make-torrent.js';
import { TorrentsRepo, type NewTorrent } from '../store/torrents-repo.js';
import { torrentFilePath } from '../torrent/paths.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';
import { BurrowError } from '../errors.js';

/**
 * [create torrent] / [create 1-time torrent]. Stage 1 hashes the pieces (in worker threads)
 * and changes nothing; the plan has no filesystem step, and the cleanup stage records the
 * torrent and writes .burrow/torrents/<id>.torrent (NAS state, not user data). The 'torrents'
 * service hears the request finish and starts serving it.
 */
function torrentActionOf(name: 'torrent' | 'torrent-once'): Action {
  const once = name === 'torrent-once';
  return {
    name,
    summary: once
      ? 'make a private one-time .torrent of a file or folder: the NAS serves it for one complete download, then never again'
      : 'make a .torrent of a file or folder, served by the NAS (web seed, tracker, peer wire) to anyone who has it',
    pathIn: 'files',
    needsDevice: false,
    needsConfirm: false,
    checkArgs: () => null,
    async start(req: ValidRequest, env: ActionEnv) {
      if (!env.config.torrent.enabled)
        throw new BurrowError('TORRENTS_OFF', 'Torrents are turned off on this NAS (torrent.enabled: false in .burrow/config.yaml).', 'Set torrent.enabled: true and restart the NAS.');
      const made = await makeTorrent(env.layout.files, req.path, once ? 'once' : 'public', env.config, req.device, env.now());
      const b = new PlanBuilder(env.layout);
      const r = made.row;
      return b.build({
        torrentId: r.id,
        kind: r.kind,
        torrentPath: b.rel(torrentFilePath(env.layout.torrents, r.id)),
        torrentUrl: made.torrentUrl,
        magnet: made.magnet,
        infoHash: r.info_hash,
        webSeed: made.webSeed,
        announce: made.announce,
        pieceLength: r.piece_length,
        pieces: r.pieces,
        bytes: r.total_bytes,
        files: (JSON.parse(r.files) as unknown[]).length,
        // Only for the cleanup stage (dropped from the reported result there).
        pending: { ...r, metainfo: r.metainfo.toString('base64') },
      });
    },
    cleanup(_req: ValidRequest, plan: Plan, env: ActionEnv) {
      const p = plan.result.pending as Record<string, unknown> & { id: string; metainfo: string };
      const metainfo = Buffer.from(p.metainfo, 'base64');
      writeFileAtomic(torrentFilePath(env.layout.torrents, p.id), metainfo);
      new TorrentsRepo(env.store.db).add({ ...(p as unknown as NewTorrent), metainfo });
      return { pending: undefined };
    },
  };
}

export const torrentAction = torrentActionOf('torrent');
export const torrentOnceAction = torrentActionOf('torrent-once');
