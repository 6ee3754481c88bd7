import type { Action } from './types.js';
import { getAction, autoGetAction } from './get.js';
import { deleteAction } from './delete.js';
import { destroyAction } from './destroy.js';
import { destroyFolderAction } from './destroy-folder.js';
import { moveAction } from './move.js';
import { mkdirAction } from './mkdir.js';
import { shareAction } from './share.js';
import { revokeAction } from './revoke.js';
import { shareFolderAction } from './share-folder.js';
import { revokeShareAction } from './revoke-share.js';
import { torrentAction } from './torrent.js';
import { torrentOnceAction } from './torrent-once.js';
import { adoptAction } from './adopt.js';
import { adoptShareAction } from './adopt-share.js';
import { moveFinishAction } from './move-finish.js';
import { removeDeviceAction } from './remove-device.js';
import { BurrowError } from '../errors.js';
import { refuse } from './plan.js';

/** Every request type a device (or the NAS owner) may send: the contract of the worklist and POST /api/requests. */
export const REQUEST_ACTIONS = ['get', 'delete', 'destroy', 'move', 'share', 'revoke', 'torrent', 'torrent-once', 'mkdir', 'share-folder', 'revoke-share', 'destroy-folder'] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];

/**
 * The actions that may name the top of the store (path ""): mkdir creates a new folder inside it,
 * and revoke / revoke-share must be able to undo a share of it made before this rule (and the NAS's
 * own adopt-share must still take in what friends add to such an old share). Every other
 * action refuses it: one request would otherwise destroy, share, get, move or delete everything
 * (destroy-folder "" wiped the store and every device; get "" would put the whole NAS on a phone).
 */
export const TOP_OF_STORE_OK: ReadonlySet<string> = new Set(['mkdir', 'revoke', 'revoke-share', 'adopt-share', 'remove-device']);

function refusingTop(a: Action): Action {
  if (TOP_OF_STORE_OK.has(a.name)) return a;
  return {
    ...a,
    start(req, env) {
      if (req.path === '') {
        const whole = a.pathIn === 'device' ? `${req.device}'s whole folder` : 'the whole store';
        throw refuse('BAD_PATH', `Refused ${a.name} with the path "": ${a.name} needs a file or folder, not ${whole} (the top of the store).`, `Pick a file or folder inside it for ${a.name}.`);
      }
      return a.start(req, env);
    },
  };
}

/** The one registry of actions (git-annex's habit: one module per command, one list of them all). */
export const ACTIONS: ReadonlyMap<string, Action> = new Map(
  [getAction, deleteAction, destroyAction, destroyFolderAction, moveAction, mkdirAction, shareAction, revokeAction, shareFolderAction, revokeShareAction, torrentAction, torrentOnceAction, adoptAction, autoGetAction, adoptShareAction, moveFinishAction, removeDeviceAction].map(
    (a) => [a.name, refusingTop(a)],
  ),
);

/** Start-up refuses to run if a request type has no action, or an action answers to the wrong name. */
export function assertRegistryComplete(actions: ReadonlyMap<string, Action> = ACTIONS, types: readonly string[] = REQUEST_ACTIONS): void {
  const missing = types.filter((t) => !actions.has(t) || actions.get(t)!.name !== t || actions.get(t)!.internal);
  if (missing.length > 0)
    throw new BurrowError('ACTION_MISSING', `No action handles the request type(s): ${missing.join(', ')}.`, 'This is a bug in this Burrow build: every request type needs a module in server/src/actions/.');
}
