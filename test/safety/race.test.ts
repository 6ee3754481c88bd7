import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fork } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from '../requests/fixture.js';
import { writeFiles } from '../helpers/tmp.js';

/**
 * Issue 11, item 1: a path checked when a request arrives must not lead outside the root when
 * the step runs. A child process swaps files/flip and devices/<d>/flip for symlinks to outside
 * canary folders (holding the same names) in a tight loop, while get, share, delete, destroy,
 * destroy-folder, mkdir and move requests run through the real request processor. Afterwards
 * nothing outside may have changed, and no inode may be shared between the root and outside.
 */
const REQUEST_MS = 14_000;
const N_DESTROY = 400;
const N_FOLDERS = 60;

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

function tree(): Record<string, string> {
  const files: Record<string, string> = { 'a.txt': 'a', 'sub/b.txt': 'b', 'sub/deeper/c.txt': 'c' };
  for (let i = 0; i < N_DESTROY; i++) files[`d-${i}.txt`] = `d${i}`;
  for (let i = 0; i < N_FOLDERS; i++) files[`df-${i}/x.txt`] = `x${i}`;
  return files;
}

/** Every entry under a folder (not following symlinks): type, and sha256 for files. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        out.set(r, 'dir');
        walk(p, r);
      } else if (e.isFile()) out.set(r, `file ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')} nlink=${fs.lstatSync(p).nlink}`);
      else out.set(r, e.isSymbolicLink() ? `symlink ${fs.readlinkSync(p)}` : 'other');
    }
  };
  walk(dir, '');
  return out;
}

function inodes(dir: string): Map<number, string> {
  const out = new Map<number, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(fs.lstatSync(p).ino, p);
    }
  };
  walk(dir);
  return out;
}

describe('the check-then-act race (a folder swapped for a symlink while requests run)', () => {
  it('never changes anything outside the root, and never shares an inode with outside', async () => {
    const flip: Record<string, string> = {};
    for (const [k, v] of Object.entries(tree())) flip[`flip/${k}`] = v;
    fx = await makeFixture({ devices: ['phone', 'laptop'], files: { ...flip, 'keep.txt': 'k' } });
    const outside = path.join(path.dirname(fx.root), 'outside');
    const outsideStore = path.join(outside, 'store-canary');
    const outsideDevice = path.join(outside, 'device-canary');
    // The canaries hold the same names as the flipped folders, with other content: a step that
    // went through the symlink would find a file to move, link, replace or delete.
    const canary: Record<string, string> = {};
    for (const k of Object.keys(tree())) canary[k] = `OUTSIDE ${k}`;
    writeFiles(outsideStore, canary);
    writeFiles(outsideDevice, canary);
    const before = snapshot(outside);
    const outsideInodes = inodes(outside);

    // The phone starts with the folder, so its side has something to flip too.
    expect((await fx.run('get', 'flip', { device: 'phone' })).state).toBe('done');
    const flipper = fork(path.resolve('test/safety/flipper.mjs'), [
      JSON.stringify([
        { path: fx.files('flip'), target: outsideStore },
        { path: fx.dev('phone', 'flip'), target: outsideDevice },
        { path: fx.dev('laptop', 'flip'), target: outsideDevice },
      ]),
    ]);
    const stopped = new Promise<{ swaps: number }>((resolve, reject) => {
      flipper.once('message', (m) => resolve(m as { swaps: number }));
      flipper.once('error', reject);
    });

    const states: Record<string, number> = {};
    let n = 0;
    const until = Date.now() + REQUEST_MS;
    try {
      while (Date.now() < until) {
        const i = n++;
        const pick = i % 8;
        const [action, p, extra] = ((): [string, string, Parameters<Fixture['run']>[2]] => {
          switch (pick) {
            case 0:
              return ['get', 'flip', { device: i % 16 === 0 ? 'laptop' : 'phone' }];
            case 1:
              return ['share', `flip/d-${(i * 7) % N_DESTROY}.txt`, { device: '@nas' }];
            case 2:
              return ['delete', 'flip', { device: 'phone' }];
            case 3:
              return ['destroy', `flip/d-${Math.floor(i / 8) % N_DESTROY}.txt`, { device: '@nas', confirm: true }];
            case 4:
              return ['move', 'flip', { device: 'phone', args: { to: ['laptop'] } }];
            case 5:
              return ['move', 'flip', { device: 'laptop', args: { to: ['phone'] } }];
            case 6:
              return ['destroy-folder', `flip/df-${Math.floor(i / 8) % N_FOLDERS}`, { device: '@nas', confirm: true }];
            default:
              return ['mkdir', 'flip', { device: '@nas', args: { name: `m-${i}` } }];
          }
        })();
        const st = await fx.run(action, p, extra);
        states[`${action} ${st.state}`] = (states[`${action} ${st.state}`] ?? 0) + 1;
      }
    } finally {
      flipper.send('stop');
    }
    const { swaps } = await stopped;
    await fx.proc.idle();

    const after = snapshot(outside);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k)).sort();
    expect(changed.slice(0, 20), `outside entries changed (of ${changed.length}); requests: ${JSON.stringify(states)}`).toEqual([]);
    const rootInodes = inodes(fx.root);
    const shared = [...outsideInodes.keys()].filter((ino) => rootInodes.has(ino)).map((ino) => `${rootInodes.get(ino)} = ${outsideInodes.get(ino)}`);
    expect(shared.slice(0, 20), 'store inodes linked outside').toEqual([]);
    // The race was real: many swaps, and requests of every kind both ran and were refused.
    expect(swaps).toBeGreaterThan(200);
    expect(n).toBeGreaterThan(50);
    expect(Object.entries(states).filter(([k]) => k.endsWith(' done')).length, JSON.stringify(states)).toBeGreaterThan(3);
  }, 60_000);
});
