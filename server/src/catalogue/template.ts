import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { BurrowError } from '../errors.js';
import { formatBytesSource } from '../util/format-bytes.js';

/** The device agent's default HTTP port; the page tries it when opened from file://. */
export const AGENT_DEFAULT_PORT = 7422;

const here = path.dirname(fileURLToPath(import.meta.url));

/** catalogue-template/ at the repository root, found from both src/ (vitest) and dist/ (node). */
export function templateDir(): string {
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'catalogue-template');
    if (fs.existsSync(path.join(candidate, 'catalogue.eta'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new BurrowError('TEMPLATE_MISSING', 'The catalogue template folder (catalogue-template/) was not found next to the Burrow installation.', 'Reinstall Burrow, or run it from its repository folder.');
}

/**
 * No network at all except the NAS or agent API: scripts only from the page itself and from
 * files next to it (the data shards, device.js), styles inline, nothing else.
 */
export const CATALOGUE_CSP = [
  "default-src 'none'",
  // The device agent's /agent.js (its CSRF token) comes from 127.0.0.1 when the page is opened from file://.
  "script-src 'self' 'unsafe-inline' file: http://127.0.0.1:* http://localhost:*",
  "style-src 'unsafe-inline'",
  "img-src data:",
  "connect-src 'self' http://127.0.0.1:* http://localhost:*",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** catalogue.html: the eta template with the page's CSS and browser script inlined. */
export function renderCataloguePage(opts: { agentPort?: number } = {}): string {
  const dir = templateDir();
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  const tpl = read('catalogue.eta');
  const css = read('catalogue.css');
  const script = formatBytesSource() + read('catalogue.js');
  // The script and CSS are inlined raw; make sure neither can close its own element early.
  if (/<\/script/i.test(script) || /<\/style/i.test(css)) throw new Error('catalogue.js/catalogue.css must not contain a closing </script> or </style>');
  const eta = new Eta({ autoEscape: true, autoTrim: false, useWith: false });
  return eta.renderString(tpl, { css, script, csp: CATALOGUE_CSP, agentPort: opts.agentPort ?? AGENT_DEFAULT_PORT, title: 'Burrow catalogue' });
}
