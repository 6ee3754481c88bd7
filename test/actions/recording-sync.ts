import { listFiles } from '../requests/fixture.js';
import type { FolderSync } from '../../server/src/nas-context.js';

/** A stand-in for the sync engine's small interface that records calls and what the disk held at that moment. */
export function recordingSync(seeAt: (name: string) => string): FolderSync & { calls: string[] } {
  const folders = new Map<string, { readWrite: string; readOnly: string; encrypted: string }>();
  const calls: string[] = [];
  return {
    calls,
    async addFolder(kind, name, absPath, mode) {
      calls.push(`add ${kind} ${name} ${mode} files=${listFiles(absPath).length}`);
      const s = { readWrite: `A${name.slice(0, 6)}`, readOnly: `B${name.slice(0, 6)}`, encrypted: `F${name.slice(0, 6)}` };
      folders.set(name, s);
      return s;
    },
    async removeFolder(kind, name) {
      calls.push(`remove ${kind} ${name} files=${listFiles(seeAt(name)).length}`);
      folders.delete(name);
    },
    secretsOf: (_kind, name) => folders.get(name),
  };
}
