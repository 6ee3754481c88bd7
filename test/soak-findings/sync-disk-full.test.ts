import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newFolderSecrets } from '../../server/src/sync/index.js';
import { REPO, freePort, tempRoot, waitFor } from '../agent/harness.js';
import { fillToLastByte, smallDisk } from '../helpers/small-disk.js';

// Soak finding 10 (seed 505, 2026-12-03): device agents died by themselves while the soak's disk
// was full. Reproduced with two `burrow sync` peers: the receiver's disk fills, the sender adds
// files, and the receiver crashed at once on SQLITE_FULL, thrown from the index save inside a
// broadcast timer. It must stay up, keep what it could not save in memory, say so, and catch up
// once there is room again.
const base = tempRoot('burrow-finding-disk-full-');
const { dir: small, mounted, cleanup } = smallDisk('burrow-finding-disk-full-small-', 16);
const procs: ChildProcess[] = [];

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  cleanup();
  fs.rmSync(base, { recursive: true, force: true });
});

function peer(dir: string, port: number, peerPort?: number): { child: ChildProcess; out: () => string } {
  const secret = peer.secret;
  const args = [path.join(REPO, 'bin', 'burrow.js'), 'sync', '--secret', secret, '--dir', dir, '--listen', String(port), '--host', '127.0.0.1', '--no-dht', ...(peerPort ? ['--peer', `127.0.0.1:${peerPort}`] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  procs.push(child);
  return { child, out: () => out };
}
peer.secret = newFolderSecrets().readWrite;

describe.skipIf(!mounted)('a sync peer whose disk fills up', () => {
  it('stays up, says so, and catches up once there is room', async () => {
    const a = path.join(base, 'a');
    const b = path.join(small, 'b');
    fs.mkdirSync(a);
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(a, `first-${i}.bin`), crypto.randomBytes(20_000));
    const [pa, pb] = [await freePort(), await freePort()];
    peer(a, pa);
    const B = peer(b, pb, pa);
    await waitFor('the first files on b', () => fs.existsSync(b) && fs.readdirSync(b).filter((n) => n.startsWith('first-')).length === 20, 45_000);

    // Fill b's disk to the last byte, then give it more to take.
    const ballast = path.join(small, 'ballast');
    fillToLastByte(ballast);
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(a, `more-${i}.bin`), crypto.randomBytes(30_000));
    await new Promise((r) => setTimeout(r, 8000));
    expect(B.child.exitCode, `b exited:\n${B.out().slice(-3000)}`).toBeNull();
    expect(B.child.signalCode).toBeNull();
    expect(B.out()).toMatch(/cannot save the folder's index|the disk is full/);

    fs.rmSync(ballast);
    await waitFor('every file on b once there is room', () => fs.readdirSync(b).filter((n) => n.startsWith('more-')).length === 100, 60_000);
    for (const n of ['first-3.bin', 'more-42.bin']) expect(fs.readFileSync(path.join(b, n)).equals(fs.readFileSync(path.join(a, n)))).toBe(true);
  }, 150_000);
});
