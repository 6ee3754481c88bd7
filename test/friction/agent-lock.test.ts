import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { burrow } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { CLI, run, stop, type Running } from './fixture.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const READY = /catalogue: http:\/\/127\.0\.0\.1:\d+/;
// Nothing leaves 127.0.0.1: no DHT, no LAN beacons; the NAS addresses in the join string are only dialled.
const ENV = { BURROW_NETWORK: 'private', BURROW_LOG_LEVEL: 'warn' };

async function agent(args: string[]): Promise<Running> {
  const a = await run(CLI, ['agent', ...args, '--no-dht', '--no-lan'], READY, ENV);
  cleanups.push(() => stop(a));
  return a;
}

describe('one device agent per folder', () => {
  it('refuses a second agent on the same --root naming the first one\'s pid, leaves its config alone, and takes over after kill -9', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const nas = path.join(t.dir, 'nas');
    const dev = path.join(t.dir, 'device');
    expect(burrow(['init', '--root', nas]).status).toBe(0);
    const join = (JSON.parse(burrow(['device', 'add', 'laptop', '--root', nas, '--json']).stdout) as { join: string }).join;

    const first = await agent(['--root', dev, '--join', join, '--port', '0', '--sync-port', '0']);
    const configFile = path.join(dev, '.burrow-agent/config.json');
    const saved = fs.readFileSync(configFile, 'utf8');

    const second = burrow(['agent', '--root', dev, '--port', '7999', '--no-dht', '--no-lan'], { env: ENV, timeoutMs: 30_000 });
    expect(second.status, second.stdout).toBe(1);
    expect(second.stderr).toContain(`A Burrow agent (pid ${first.child.pid}) is already running on ${dev}`);
    expect(fs.readFileSync(configFile, 'utf8')).toBe(saved); // the running agent's port is not overwritten
    expect(first.child.exitCode).toBeNull();

    // A crash leaves the lock behind; the next agent sees its pid is gone and starts.
    await stop(first, 'SIGKILL');
    expect(fs.existsSync(path.join(dev, '.burrow-agent/agent.lock'))).toBe(true);
    const third = await agent(['--root', dev]);
    expect(third.out()).toContain('Burrow agent for device laptop');
    expect(fs.readFileSync(path.join(dev, '.burrow-agent/agent.lock'), 'utf8').trim()).toBe(String(third.child.pid));
  });
});
