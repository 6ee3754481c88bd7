/**
 * `node dist/bench/anchored-fs-bench.js`: what anchored-fs costs per filesystem step. The same
 * steps on a path 5 folders deep (devices/<d>/A/B/C/<name>, as a get into a device folder),
 * plain fs calls on the path string against anchored-fs (open every folder O_PATH|O_NOFOLLOW
 * from the root, then act on /proc/self/fd/<parent>/<name>), and anchored-fs in a batch (the folders
 * kept open across steps, as the journal does within one step). Median of 5 runs, µs per step.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anchoredAt } from '../server/src/anchored-fs/index.js';

const N = Number(process.env.BENCH_N ?? 5000);
const REPS = 5;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'burrow-anchored-bench-'));
const dirRel = 'devices/phone/A/B/C';
fs.mkdirSync(path.join(root, dirRel), { recursive: true });
fs.mkdirSync(path.join(root, 'files'), { recursive: true });
fs.writeFileSync(path.join(root, 'files/src.bin'), 'x');
const A = anchoredAt(root);
const abs = (rel: string) => path.join(root, rel);

function median(fn: (i: number) => void): number {
  const runs: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) fn(i);
    runs.push(((performance.now() - t0) * 1000) / N);
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(REPS / 2)]!;
}

const rows: Array<[string, number, number, number]> = [];
/** plain path calls; anchored, one fd walk per step; anchored in a batch (folders kept open across steps, as in one journal step). */
const pair = (name: string, plain: (i: number) => void, anchored: (i: number) => void) => {
  const p = median(plain);
  const a = median(anchored);
  A.beginBatch();
  const b = median(anchored);
  A.endBatch();
  rows.push([name, p, a, b]);
};

pair('lstat', (i) => fs.lstatSync(abs(`${dirRel}/n${i}`), { throwIfNoEntry: false }), (i) => A.lstat(`${dirRel}/n${i}`));
pair(
  'link + unlink',
  (i) => {
    fs.linkSync(abs('files/src.bin'), abs(`${dirRel}/l${i}`));
    fs.unlinkSync(abs(`${dirRel}/l${i}`));
  },
  (i) => {
    A.link('files/src.bin', `${dirRel}/l${i}`);
    A.unlink(`${dirRel}/l${i}`);
  },
);
pair(
  'mkdir + rmdir',
  (i) => {
    fs.mkdirSync(abs(`${dirRel}/d${i}`));
    fs.rmdirSync(abs(`${dirRel}/d${i}`));
  },
  (i) => {
    A.mkdir(`${dirRel}/d${i}`);
    A.rmdir(`${dirRel}/d${i}`);
  },
);
pair(
  'rename there and back',
  () => {
    fs.renameSync(abs('files/src.bin'), abs(`${dirRel}/r`));
    fs.renameSync(abs(`${dirRel}/r`), abs('files/src.bin'));
  },
  () => {
    A.rename('files/src.bin', `${dirRel}/r`);
    A.rename(`${dirRel}/r`, 'files/src.bin');
  },
);
fs.rmSync(root, { recursive: true, force: true });
console.log(`per step, ${N} steps x ${REPS} runs, path 5 folders deep (µs, median)`);
console.log('| step | plain fs | anchored | anchored, batch |');
console.log('|---|---:|---:|---:|');
for (const [name, p, a, b] of rows) console.log(`| ${name} | ${p.toFixed(1)} | ${a.toFixed(1)} | ${b.toFixed(1)} |`);
