import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { netnsWorks } from '../helpers/netns.js';
import { addDevice, sameBytes, startAgent, startNas, stopProc, tempRoot, waitFor, type AgentHandle, type NasHandle } from './harness.js';

const canNetns = netnsWorks('the device-agent network-namespace test');

const tag = crypto.randomBytes(3).toString('hex');
const ns = `bagent-${tag}`;
const vHost = `bah${tag}`;
const vNas = `ban${tag}`;
const sub = 1 + (parseInt(tag.slice(0, 2), 16) % 250);
const hostIp = `10.214.${sub}.1`;
const nasIp = `10.214.${sub}.2`;
const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: 'inherit' });
};

let base = '';
let nas: NasHandle | undefined;
let agent: AgentHandle | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await stopProc(agent);
  await stopProc(nas);
  if (canNetns) {
    try {
      execFileSync('ip', ['link', 'del', vHost], { stdio: 'ignore' });
    } catch {
      /* gone with the namespace */
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* never made */
    }
  }
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('device and NAS in separate network namespaces', () => {
  (canNetns ? it : it.skip)('[get] in the catalogue brings the file across the veth link, and [open] turns bold', async () => {
    ip('netns', 'add', ns);
    ip('link', 'add', vHost, 'type', 'veth', 'peer', 'name', vNas);
    ip('link', 'set', vNas, 'netns', ns);
    ip('addr', 'add', `${hostIp}/24`, 'dev', vHost);
    ip('-n', ns, 'addr', 'add', `${nasIp}/24`, 'dev', vNas);
    ip('link', 'set', vHost, 'up');
    ip('-n', ns, 'link', 'set', vNas, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');

    base = tempRoot('burrow-e2e-netns-');
    const nasRoot = path.join(base, 'nas');
    fs.mkdirSync(path.join(nasRoot, 'files'), { recursive: true });
    fs.writeFileSync(path.join(nasRoot, 'files', 'across.bin'), crypto.randomBytes(200_000));
    nas = await startNas(nasRoot, { netns: ns, publicHost: nasIp });
    const join = addDevice(nasRoot, 'alpha');
    agent = await startAgent(path.join(base, 'alpha'), join);
    const cfg = JSON.parse(fs.readFileSync(path.join(agent.root, '.burrow-agent', 'config.json'), 'utf8')) as { nas: { addresses: string[] } };
    expect(cfg.nas.addresses).toEqual([`${nasIp}:${nas.syncPort}`]);
    await waitFor('catalogue over the veth link', () => fs.existsSync(path.join(agent!.root, 'files', '.burrow', 'device.js')) && fs.readFileSync(path.join(agent!.root, 'catalogue', 'data', 'summary.js'), 'utf8').includes('"files":1'), 30_000);

    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(agent.url);
    await page.waitForSelector('.row[data-path="across.bin"] .lnk.get.strong', { timeout: 20_000 });
    await page.click('.row[data-path="across.bin"] .lnk.get');
    await page.click('#veil:not([hidden]) #dlg-confirm');
    await waitFor('across.bin on the device', () => sameBytes(path.join(agent!.root, 'files', 'across.bin'), path.join(nasRoot, 'files', 'across.bin')), 30_000);
    await page.waitForSelector('.row[data-path="across.bin"] .lnk.open.strong', { timeout: 20_000 });
    // The only peer is the NAS's veth address.
    const st = JSON.parse(fs.readFileSync(path.join(agent.root, '.burrow-agent', 'status.json'), 'utf8')) as { peers: Array<{ address: string }> };
    expect(st.peers.length).toBeGreaterThan(0);
    for (const p of st.peers) expect(p.address.startsWith(nasIp)).toBe(true);
  }, 120_000);
});
