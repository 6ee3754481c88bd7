import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgentServer, type RunningAgentServer } from '../../device-agents/server.js';
import { RequestBook } from '../../device-agents/requests.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The catalogue version a page compares against is the one of the moment its HTML was served,
 * not of the moment it fetched /agent.js: that script comes after the page's data scripts, and a
 * catalogue completed in between gave the page the new version with the old rows, so it never
 * reloaded (test/agent/e2e.test.ts "a file created on beta shows up" failed this way under load:
 * the agent's data named the row, the page drew the old list).
 */
const t = tempDir('burrow-page-version-');
let server: RunningAgentServer | undefined;
afterAll(async () => {
  await server?.close();
  t.cleanup();
});

describe('the live catalogue version of an agent page', () => {
  it('is the version when the page was served, even if a new catalogue completed before /agent.js', async () => {
    const catalogueDir = path.join(t.dir, 'catalogue');
    fs.mkdirSync(catalogueDir, { recursive: true });
    fs.writeFileSync(path.join(catalogueDir, 'catalogue.html'), '<html><body><script src="data/index.js"></script></body></html>');
    let version = 'v1';
    server = await startAgentServer({
      port: 0,
      catalogueDir,
      filesDir: path.join(t.dir, 'files'),
      device: 'alpha',
      token: 'x'.repeat(43),
      requests: new RequestBook(path.join(t.dir, 'worklist'), path.join(t.dir, 'shard'), 'alpha'),
      submit: async () => undefined,
      status: () => ({}),
      version: () => version,
      missing: async () => [],
    });
    const page = await (await fetch(`${server.url.replace(/\/$/, "")}/catalogue/`)).text();
    const src = /<script src="(\/agent\.js\?nonce=[^"]+)"><\/script>/.exec(page)?.[1];
    expect(src, page).toBeTruthy();
    version = 'v2'; // the page's data scripts loaded v1's rows; then the next catalogue completed
    const script = await (await fetch(`${server.url.replace(/\/$/, "")}${src}`)).text();
    const cfg = JSON.parse(/window\.BURROW_AGENT=(\{.*?\});/.exec(script)![1]!) as { version: string };
    expect(cfg.version).toBe('v1'); // so its first poll sees v2 and reloads
    expect((await (await fetch(`${server.url.replace(/\/$/, "")}/api/version`, { headers: { 'X-Burrow-Token': 'x'.repeat(43) } })).json()) as unknown).toEqual({ version: 'v2' });
    // The nonce opens /agent.js once.
    expect(await (await fetch(`${server.url.replace(/\/$/, "")}${src}`)).text()).not.toContain('BURROW_AGENT');
  });
});
