import { fileURLToPath } from 'node:url';

/**
 * worker_threads need plain JavaScript. Under vitest our modules run from .ts sources, so a
 * sibling worker resolves to the compiled copy in dist/ (npm test builds first).
 */
export function workerScript(siblingJs: string, importMetaUrl: string): string {
  const url = new URL(siblingJs, importMetaUrl);
  const file = fileURLToPath(url);
  if (importMetaUrl.endsWith('.ts')) {
    return file.replace(/([\\/])server([\\/])src([\\/])/, '$1dist$1server$2src$3').replace(/([\\/])device-agents([\\/])/, '$1dist$1device-agents$2');
  }
  return file;
}
