import crypto from 'node:crypto';
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
 * No network at all except the NAS or agent API: scripts only from the page itself (its own
 * inline scripts, allowed one by one by their SHA-256, never 'unsafe-inline'), from files next
 * to it (the data shards, device.js) and from the device agent's one port on loopback (its
 * /agent.js, for a page opened from file://); its one inline style, also by hash; nothing else.
 * Framing is refused by the servers' headers (frame-ancestors cannot be set from a meta tag).
 */
export function catalogueCsp(hashes: { scripts: string[]; styles: string[] }, agentPort: number): string {
  const agent = `http://127.0.0.1:${agentPort} http://localhost:${agentPort}`;
  const quoted = (list: string[]) => list.map((h) => `'sha256-${h}'`).join(' ');
  return [
    "default-src 'none'",
    `script-src 'self' file: ${quoted(hashes.scripts)} ${agent}`,
    `style-src ${quoted(hashes.styles)}`,
    'img-src data:',
    `connect-src 'self' ${agent}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const CSP_PLACEHOLDER = 'burrow-csp-placeholder';
const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('base64');

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
  const agentPort = opts.agentPort ?? AGENT_DEFAULT_PORT;
  const html = eta.renderString(tpl, { css, script, csp: CSP_PLACEHOLDER, agentPort, title: 'Burrow catalogue' });
  // Hash exactly what the browser will hash: the text of each inline <script> and <style>.
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => sha256(m[1]!));
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => sha256(m[1]!));
  return html.replace(CSP_PLACEHOLDER, catalogueCsp({ scripts, styles }, agentPort).replaceAll("'", '&#39;'));
}
