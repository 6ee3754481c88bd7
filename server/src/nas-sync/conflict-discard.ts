import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { NasContext } from '../nas-context.js';
import type { RequestsService } from '../requests/service.js';
import { TrashRepo } from '../store/trash-repo.js';
import { anchoredAt } from '../anchored-fs/index.js';
import { stamp } from '../actions/plan.js';
import { BurrowError } from '../errors.js';

/**
 * The NAS's side of "keep one version" of a sync conflict (SyncEngine.keepConflict): the version
 * not kept goes to the NAS trash, never away for good. When the store holds that very file
 * (files/<rel> is the same inode: the NAS adopted it), a `destroy` request takes it out of the
 * store and every device into the trash, journaled. Otherwise only the synced folder has it,
 * and it moves into .burrow/trash/<id>/devices/<d>/<rel> (or shares/<s>/...) as one item.
 */
export function conflictDiscarder(ctx: NasContext, folderId: string): (abs: string, rel: string) => Promise<void> {
  const [kind, name] = [folderId.slice(0, folderId.indexOf(':')), folderId.slice(folderId.indexOf(':') + 1)];
  if (kind !== 'device' && kind !== 'share') throw new BurrowError('NOT_A_CONFLICT', `The folder ${folderId} has no conflicts the owner can resolve.`, 'Only device and shared folders have conflict copies.');
  return async (abs, rel) => {
    const storeCopy = path.join(ctx.layout.files, rel);
    const mine = fs.lstatSync(abs, { throwIfNoEntry: false });
    const store = fs.lstatSync(storeCopy, { throwIfNoEntry: false });
    if (mine && store && mine.ino === store.ino && mine.dev === store.dev) {
      const s = ctx.services.get('requests') as RequestsService | undefined;
      if (!s) throw new BurrowError('NOT_RUNNING', 'The request processor is not running on this NAS.', 'Restart the NAS with "burrow start".');
      const st = await s.submit({ id: `ui-conflict-${crypto.randomUUID()}`, device: '@nas', action: 'destroy', path: rel, args: {}, confirm: true }, 'http').done;
      if (st.state !== 'done') throw new BurrowError('CONFLICT_NOT_RESOLVED', `Could not move ${rel} to the trash: ${st.reason ?? st.state}.`, 'Nothing was changed; try again.');
      return;
    }
    const now = new Date();
    const id = `conflict-${stamp(now).compact}-${crypto.randomBytes(4).toString('hex')}`;
    const A = anchoredAt(ctx.layout.root);
    const itemRel = path.relative(ctx.layout.root, path.join(ctx.layout.trash, id));
    const area = kind === 'device' ? 'devices' : 'shares';
    const to = `${itemRel}/${area}/${name}/${rel}`;
    A.mkdirp(path.posix.dirname(to));
    A.writeFileAtomic(`${itemRel}/meta.json`, JSON.stringify({ id, originalPath: rel, kind: 'conflict-version', folder: folderId, trashedAt: now.toISOString(), files: 1 }, null, 2) + '\n');
    A.rename(path.relative(ctx.layout.root, abs), to);
    new TrashRepo(ctx.store.db).add({ id, original_path: rel, kind: 'conflict-version', bytes: mine?.size ?? 0, files: 1, request_id: id, trashed_at: now.getTime() });
  };
}
