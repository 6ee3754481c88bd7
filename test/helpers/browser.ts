import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, with the flags every Burrow browser test uses (no network chatter, no sandbox in CI). */
export const CHROMIUM_PATH = process.env.BURROW_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Launch headless Chromium; close it in afterAll. Extra args are appended (e.g. --allow-file-access-from-files). */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
