/**
 * Content-addressed store of ciphertext blocks for encrypted-storage
 * folders: `<root>/blocks/<2 hex>/<64 hex>`, named by the SHA-256 of the
 * ciphertext. It never sees a plaintext name or byte.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export class BlockStore {
  constructor(private readonly root: string) {}
  private file(hashB64: string): string {
    const hex = Buffer.from(hashB64, 'base64').toString('hex');
    return path.join(this.root, 'blocks', hex.slice(0, 2), hex);
  }
  async has(hashB64: string): Promise<boolean> {
    try {
      await fs.promises.access(this.file(hashB64));
      return true;
    } catch {
      return false;
    }
  }
  async get(hashB64: string): Promise<Buffer | null> {
    try {
      return await fs.promises.readFile(this.file(hashB64));
    } catch {
      return null;
    }
  }
  /** Store a block after checking its hash; writes a temp file and renames it. */
  async put(hashB64: string, data: Buffer): Promise<boolean> {
    if (crypto.createHash('sha256').update(data).digest('base64') !== hashB64) return false;
    const f = this.file(hashB64);
    await fs.promises.mkdir(path.dirname(f), { recursive: true });
    const tmp = f + '.' + crypto.randomBytes(4).toString('hex') + '.tmp';
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, f);
    return true;
  }
}
