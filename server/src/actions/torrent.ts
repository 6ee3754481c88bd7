import type { Action } from './types.js';
import { refuse } from './plan.js';

/** Torrents come with their own feature; until then both menu entries answer clearly and change nothing. */
function notYet(name: 'torrent' | 'torrent-once', what: string): Action {
  return {
    name,
    summary: `${what} (not available yet)`,
    pathIn: 'files',
    needsDevice: false,
    needsConfirm: false,
    checkArgs: () => null,
    start() {
      throw refuse('NOT_AVAILABLE', `Creating ${what === 'create torrent' ? 'a torrent' : 'a one-time torrent'} is not available yet.`, 'It comes with the torrent feature; nothing was changed.');
    },
  };
}

export const torrentAction = notYet('torrent', 'create torrent');
export const torrentOnceAction = notYet('torrent-once', 'create 1-time torrent');
