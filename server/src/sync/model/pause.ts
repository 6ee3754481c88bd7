/**
 * Which folders the host paused, kept in `<stateDir>/paused.json` so a pause survives a
 * restart. A paused folder is not opened at all: no watcher, no dialling, no inbound
 * connection finds its keys, nothing is applied. Folders are named by their public id (hex),
 * which is stable while the host's ids may change.
 */
import fs from 'node:fs';
import path from 'node:path';

export class PausedFolders {
  private readonly file: string;
  private ids = new Set<string>();

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'paused.json');
  }

  /** Read the saved list; a missing or unreadable file means nothing is paused. */
  load(): void {
    try {
      const list = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      this.ids = new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
    } catch {
      this.ids = new Set();
    }
  }

  has(publicId: string): boolean {
    return this.ids.has(publicId);
  }

  async set(publicId: string, paused: boolean): Promise<void> {
    if (paused === this.ids.has(publicId)) return;
    if (paused) this.ids.add(publicId);
    else this.ids.delete(publicId);
    // Write then rename, so a crash leaves either list, never half of one.
    const tmp = `${this.file}.tmp-${process.pid}`;
    await fs.promises.writeFile(tmp, JSON.stringify([...this.ids]), { mode: 0o600 });
    await fs.promises.rename(tmp, this.file);
  }
}
