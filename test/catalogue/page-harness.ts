import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Console noise that is expected, not a fault: the probe of an absent agent, an absent device.js. */
const EXPECTED = /ERR_CONNECTION_REFUSED|ERR_FILE_NOT_FOUND/;

export interface Watched {
  page: Page;
  problems: string[];
}

/** A page that records every dialog, uncaught error and unexpected console error. */
export async function watchedPage(browser: Browser, opts: Parameters<Browser['newContext']>[0] = {}): Promise<Watched> {
  const ctx = await browser.newContext(opts);
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !EXPECTED.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { page, problems };
}

export async function loaded(page: Page): Promise<void> {
  await page.waitForFunction(() => document.documentElement.hasAttribute('data-loaded'), undefined, { timeout: 15_000 });
}

/** The row for an exact path (paths may hold quotes and newlines, so no CSS selector is built from them). */
export async function rowIndex(page: Page, p: string): Promise<number> {
  const i = await page.evaluate((want) => Array.from(document.querySelectorAll<HTMLElement>('.row')).findIndex((r) => r.dataset.path === want), p);
  expect(i, `row ${JSON.stringify(p)}`).toBeGreaterThanOrEqual(0);
  return i;
}
/** A CSS string body for any text: every character but letters, digits, _ and - as a hex escape. */
const cssString = (s: string): string => Array.from(s, (ch) => (/[A-Za-z0-9_-]/.test(ch) ? ch : `\\${ch.codePointAt(0)!.toString(16)} `)).join('');

/**
 * The row for an exact path, as a locator by its data-path: it finds the row again when the page
 * reloads (the live publisher reloads it after every change), where an index into the rows could
 * name another row. Waits for the row to be there.
 */
export async function row(page: Page, p: string) {
  const r = page.locator(`.row[data-path="${cssString(p)}"]`);
  await r.waitFor({ state: 'attached', timeout: 10_000 }).catch(async () => void (await rowIndex(page, p))); // fails naming the path
  return r;
}

export async function expand(page: Page, p: string): Promise<void> {
  const r = await row(page, p);
  if ((await r.getAttribute('aria-expanded')) !== 'true') await r.locator('.tw').click();
}

/** Is the [get]/[open] link of this row bold? */
export async function boldness(page: Page, p: string): Promise<{ get: boolean; open: boolean }> {
  const r = await row(page, p);
  const w = async (sel: string) => Number(await r.locator(sel).evaluate((e) => getComputedStyle(e).fontWeight)) >= 700;
  return { get: await w('.get'), open: await w('.open') };
}

export interface Posted {
  body: Record<string, unknown> & { args: Record<string, unknown> };
  token: string | undefined;
}

/**
 * A stand-in for the device agent (test only): answers the health probe, serves /agent.js with a
 * token, records every POST /api/requests and reports each as done when polled; torrents answer
 * "not available yet" like the real processor may.
 */
export async function fakeAgent(): Promise<{ app: FastifyInstance; url: string; posted: Posted[] }> {
  const app = Fastify();
  const posted: Posted[] = [];
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('Access-Control-Allow-Origin', '*');
    reply.header('Access-Control-Allow-Headers', 'content-type, x-burrow-token');
    reply.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  });
  app.options('/*', async (_req, reply) => reply.code(204).send());
  app.get('/api/health', async () => ({ ok: true }));
  app.get('/agent.js', async (_req, reply) => reply.type('text/javascript').send('window.BURROW_AGENT={token:"tok-123"};'));
  app.post('/api/requests', async (req, reply) => {
    const body = req.body as Posted['body'];
    posted.push({ body, token: req.headers['x-burrow-token'] as string | undefined });
    if (String(body.action).startsWith('torrent')) return reply.code(501).send({ error: 'NOT_AVAILABLE', message: 'torrents are not available yet' });
    return reply.code(202).send({ id: body.id, state: 'pending' });
  });
  app.get('/api/requests/:id', async (req) => ({ id: (req.params as { id: string }).id, state: 'done' }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, posted };
}
