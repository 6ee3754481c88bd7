/**
 * A set of ids kept in one file under the engine's state directory, so it survives a restart:
 * the folders the host paused (`paused.json`) and the devices it blocked (`blocked.json`).
 * A paused folder is not opened at all: no watcher, no dialling, no inbound connection finds
 * its keys, nothing is applied. Folders are named by their public id (hex), which is stable
 * while the host's ids may change. A blocked device gets no link to any folder.
 */
import fs from 'node:fs';
import path from 'node:path';

export class SavedIdSet {
  private readonly file: string;
  private ids = new Set<string>();

  constructor(stateDir: string, name: 'paused.json' | 'blocked.json') {
    this.file = path.join(stateDir, name);
  }

  /** Read the saved list; a missing or unreadable file means an empty set. */
  load(): void {
    try {
      const list = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      this.ids = new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
    } catch {
      this.ids = new Set();
    }
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  async set(id: string, member: boolean): Promise<void> {
    if (member === this.ids.has(id)) return;
    if (member) this.ids.add(id);
    else this.ids.delete(id);
    // Write then rename, so a crash leaves either list, never half of one.
    const tmp = `${this.file}.tmp-${process.pid}`;
    await fs.promises.writeFile(tmp, JSON.stringify([...this.ids]), { mode: 0o600 });
    await fs.promises.rename(tmp, this.file);
  }
}
