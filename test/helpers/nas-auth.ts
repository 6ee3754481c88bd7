import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { setAdminPassword } from '../../server/src/root/admin-password.js';
import { layoutOf } from '../../server/src/root/layout.js';

/** The password the tests give a NAS root (at least 8 characters). */
export const TEST_PASSWORD = 'correct horse battery';

/** The NAS's API token (.burrow/api-token), as the CLI sends it. */
export function apiToken(root: string): string {
  return fs.readFileSync(path.join(root, '.burrow/api-token'), 'utf8').trim();
}

/** Headers that make a fetch the owner's: the bearer token, plus JSON when there is a body. */
export function ownerHeaders(root: string, json = true): Record<string, string> {
  return { authorization: `Bearer ${apiToken(root)}`, ...(json ? { 'content-type': 'application/json' } : {}) };
}

/** fetch against a running NAS as its owner (bearer token). */
export function ownerFetch(root: string, url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...ownerHeaders(root, init.body !== undefined), ...(init.headers as Record<string, string> | undefined) } });
}

/** Give the root an admin password, then log the page in through the real login page. */
export async function loginPage(page: Page, baseUrl: string, root: string): Promise<void> {
  if (!fs.existsSync(layoutOf(root).adminPassword)) await setAdminPassword(layoutOf(root), TEST_PASSWORD);
  await page.goto(`${baseUrl}/login`);
  await page.fill('#password', TEST_PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.click('#submit')]);
}
