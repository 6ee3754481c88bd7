import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, with the flags every Burrow browser test uses (no network chatter, no sandbox in CI). */
export const CHROMIUM_PATH = process.env.BURROW_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Installs chromium with the project's system-deps script when it is missing (needs root), once per process. */
function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM_PATH)) return;
  const script = path.resolve('scripts/install-system-deps.sh');
  const r = spawnSync('bash', [script, 'test'], { stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(CHROMIUM_PATH)) throw new Error(`Chromium is not at ${CHROMIUM_PATH}. Install it with: sudo ${script} test (or set BURROW_CHROMIUM).`);
}

/** Launch headless Chromium; close it in afterAll. Extra args are appended. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
