import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use, synchronously. Every `burrow` command starts a new
 * process, and packages only some commands need (QR codes, progress bars) cost tens of
 * milliseconds each to load; a static import would make every command pay for them.
 */
export function lazyCjs<T>(name: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(name) as T);
}
