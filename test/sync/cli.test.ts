import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { register as registerSecret } from '../../server/src/cli/commands/secret.js';
import { parseSecret } from '../../server/src/sync/index.js';
import { buildForChildren, readTree, tmpDir, waitFor, writeTree } from './helpers.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('CLI: burrow secret / burrow sync', () => {
  it('secret new --json prints three derived secrets', async () => {
    const p = new Command('burrow');
    registerSecret(p);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      out += c.toString();
      return true;
    });
    try {
      await p.parseAsync(['node', 'burrow', 'secret', 'new', '--json']);
    } finally {
      spy.mockRestore();
    }
    const j = JSON.parse(out) as { readWrite: string; readOnly: string; encrypted: string };
    expect(Object.keys(j)).toEqual(['readWrite', 'readOnly', 'encrypted']);
    expect(parseSecret(j.readWrite).level).toBe('rw');
    expect(parseSecret(j.readOnly).folderId.equals(parseSecret(j.readWrite).folderId)).toBe(true);
    expect(parseSecret(j.encrypted).level).toBe('enc');
  });

  it('sync runs two bare peers and prints exactly one "in sync" line', async () => {
    const out = await buildForChildren();
    const root = await tmpDir();
    const cli = (args: string[]): ChildProcess => {
      const c = spawn(process.execPath, [path.join(out, 'cli.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    };
    // secrets from the CLI itself
    const gen = cli(['secret', 'new', '--json']);
    let js = '';
    gen.stdout!.on('data', (d: Buffer) => (js += d.toString()));
    await new Promise((r) => gen.on('exit', r));
    const s = JSON.parse(js) as { readWrite: string; readOnly: string };
    await writeTree(path.join(root, 'a'), { 'from-cli.txt': 'cli works', 'sub/two.txt': 'two' });
    const a = cli(['sync', '--secret', s.readWrite, '--dir', path.join(root, 'a'), '--listen', '0', '--host', '127.0.0.1', '--no-dht']);
    let aErr = '';
    a.stderr!.on('data', (d: Buffer) => (aErr += d.toString()));
    await waitFor(() => /listening on 127\.0\.0\.1:(\d+)/.test(aErr), 15_000, 'peer a to listen');
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(aErr)![1]!;
    const b = cli(['sync', '--secret', s.readOnly, '--dir', path.join(root, 'b'), '--host', '127.0.0.1', '--peer', `127.0.0.1:${port}`, '--no-dht']);
    let bOut = '';
    b.stdout!.on('data', (d: Buffer) => (bOut += d.toString()));
    await waitFor(() => bOut.includes('in sync'), 20_000, '"in sync" line');
    const t = await readTree(path.join(root, 'b'));
    expect(t['from-cli.txt']).toBe('cli works');
    expect(t['sub/two.txt']).toBe('two');
    // later changes still sync, and the line is not repeated
    await writeTree(path.join(root, 'a'), { 'later.txt': 'later' });
    await waitFor(async () => (await readTree(path.join(root, 'b')))['later.txt'] === 'later', 15_000, 'later change');
    await new Promise((r) => setTimeout(r, 300));
    expect(bOut.split('\n').filter((l) => l.includes('in sync')).length).toBe(1);
    const exits = [a, b].map((c) => new Promise<number | null>((r) => c.on('exit', (code) => r(code))));
    b.kill('SIGTERM');

    // Receive-only: a local edit is reported, never sent; --revert puts the published version back.
    await writeTree(path.join(root, 'b'), { 'from-cli.txt': 'edited on b' });
    const bArgs = ['sync', '--secret', s.readOnly, '--dir', path.join(root, 'b'), '--host', '127.0.0.1', '--peer', `127.0.0.1:${port}`, '--no-dht'];
    const b2 = cli(bArgs);
    let b2Err = '';
    b2.stderr!.on('data', (d: Buffer) => (b2Err += d.toString()));
    await waitFor(() => /1 local change\(s\), not sent[\s\S]*modified from-cli\.txt/.test(b2Err), 15_000, 'local change reported');
    const b2Exit = new Promise((r) => b2.on('exit', r));
    b2.kill('SIGTERM');
    await b2Exit;
    expect((await readTree(path.join(root, 'a')))['from-cli.txt']).toBe('cli works');
    const b3 = cli([...bArgs, '--revert']);
    let b3Out = '';
    b3.stdout!.on('data', (d: Buffer) => (b3Out += d.toString()));
    await waitFor(() => b3Out.includes('reverted 1 local change(s)'), 15_000, 'revert line');
    await waitFor(async () => (await readTree(path.join(root, 'b')))['from-cli.txt'] === 'cli works', 15_000, 'published version back');
    const b3Exit = new Promise<number | null>((r) => b3.on('exit', (code) => r(code)));
    a.kill('SIGTERM');
    b3.kill('SIGTERM');
    expect(await Promise.all([...exits, b3Exit])).toEqual([0, 0, 0]);
  }, 60_000);
});
