import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { netnsWorks } from '../helpers/netns.js';
import { describe, expect, it } from 'vitest';
import { newFolderSecrets } from '../../server/src/sync/index.js';
import { buildForChildren, readTree, tmpDir, waitFor, writeTree } from './helpers.js';

const canNetns = netnsWorks('the LAN discovery test');

const RUNNER = `
import { SyncEngine } from './server/src/sync/index.js';
const [secret, dir, state, lanPort, mode] = process.argv.slice(2);
const e = new SyncEngine({ stateDir: state, listen: { host: '0.0.0.0', port: 0 }, lan: { port: Number(lanPort), intervalMs: 300 }, dialIntervalMs: 300, watch: false, rescanIntervalMs: 0 });
await e.open();
e.on('folderSynced', () => console.log('in sync'));
await e.addFolder({ id: 'f', path: dir, secret, mode });
process.on('SIGTERM', async () => { await e.close(); process.exit(0); });
`;

describe('LAN discovery across network namespaces', () => {
  (canNetns ? it : it.skip)('two hosts on a veth link find each other by beacons alone', async () => {
    const root = await tmpDir();
    const out = await buildForChildren();
    fs.writeFileSync(path.join(out, 'runner.mjs'), RUNNER);

    const tag = crypto.randomBytes(3).toString('hex');
    const nsA = `bsync-a-${tag}`;
    const nsB = `bsync-b-${tag}`;
    const vA = `bsa${tag}`;
    const vB = `bsb${tag}`;
    const sub = 1 + (parseInt(tag.slice(0, 2), 16) % 250);
    const ip = (...args: string[]): void => {
      execFileSync('ip', args, { stdio: 'inherit' });
    };
    const children: ChildProcess[] = [];
    try {
      ip('netns', 'add', nsA);
      ip('netns', 'add', nsB);
      ip('link', 'add', vA, 'type', 'veth', 'peer', 'name', vB);
      ip('link', 'set', vA, 'netns', nsA);
      ip('link', 'set', vB, 'netns', nsB);
      ip('-n', nsA, 'addr', 'add', `10.213.${sub}.1/24`, 'dev', vA);
      ip('-n', nsB, 'addr', 'add', `10.213.${sub}.2/24`, 'dev', vB);
      ip('-n', nsA, 'link', 'set', vA, 'up');
      ip('-n', nsB, 'link', 'set', vB, 'up');
      ip('-n', nsA, 'link', 'set', 'lo', 'up');
      ip('-n', nsB, 'link', 'set', 'lo', 'up');

      const s = newFolderSecrets();
      await writeTree(path.join(root, 'a'), { 'over-the-lan.txt': 'beacons work' });
      const run = (ns: string, secret: string, name: string, mode: string): ChildProcess => {
        const c = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(out, 'runner.mjs'), secret, path.join(root, name), path.join(root, name + '-state'), '21313', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(c);
        return c;
      };
      run(nsA, s.readWrite, 'a', 'send-receive');
      const b = run(nsB, s.readOnly, 'b', 'receive-only');
      let said = '';
      b.stdout!.on('data', (d: Buffer) => (said += d.toString()));
      await waitFor(async () => (await readTree(path.join(root, 'b')).catch(() => ({}) as Record<string, string>))['over-the-lan.txt'] === 'beacons work', 30_000, 'LAN sync');
      await waitFor(() => said.includes('in sync'), 10_000, 'in sync line');
      expect(said).toContain('in sync');
    } finally {
      for (const c of children) c.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      for (const ns of [nsA, nsB]) {
        try {
          execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
        } catch {
          /* already gone */
        }
      }
    }
  }, 60_000);
});
