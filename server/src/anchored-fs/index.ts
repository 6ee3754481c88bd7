/**
 * anchored-fs: the one module that performs filesystem steps on a Burrow root (and on a sync
 * engine's folders). Every step resolves its parent folder without following symlinks at the
 * moment it acts; see anchored-dir.ts. Imports only node: built-ins (dependency-cruiser checks it),
 * so the NAS and the sync engine may both import it.
 */
export { AnchoredDir, AnchoredFsError, anchoredAt, anchorMode, splitRel, O_PATH, type WriteOpts } from './anchored-dir.js';
