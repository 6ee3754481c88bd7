/**
 * `npm run bench:crypto`: the AEAD choice for the sync engine's transport and blocks, measured
 * side by side: node:crypto (OpenSSL) against @noble/ciphers (pure JS), 64 KiB chunks.
 */
import crypto from 'node:crypto';
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { gcm } from '@noble/ciphers/aes.js';

const CHUNK = 64 * 1024;
const TOTAL = Number(process.env.BENCH_MB ?? 256) * 1024 * 1024;
const REPS = Number(process.env.BENCH_REPS ?? 5);
const key = crypto.randomBytes(32);
const data = crypto.randomBytes(CHUNK);

function mbps(fn: (nonce: Buffer) => void, nonceLen: number): number {
  const runs: number[] = [];
  const nonce = Buffer.alloc(nonceLen);
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let done = 0; done < TOTAL; done += CHUNK) {
      nonce.writeUInt32LE(done / CHUNK, 0);
      fn(nonce);
    }
    runs.push(TOTAL / 1e6 / ((performance.now() - t0) / 1000));
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)]!;
}

const rows: Array<[string, number]> = [
  ['node:crypto chacha20-poly1305', mbps((n) => { const c = crypto.createCipheriv('chacha20-poly1305', key, n, { authTagLength: 16 }); c.update(data); c.final(); c.getAuthTag(); }, 12)],
  ['node:crypto aes-256-gcm', mbps((n) => { const c = crypto.createCipheriv('aes-256-gcm', key, n); c.update(data); c.final(); c.getAuthTag(); }, 12)],
  ['@noble/ciphers chacha20poly1305', mbps((n) => { chacha20poly1305(key, n).encrypt(data); }, 12)],
  ['@noble/ciphers xchacha20poly1305', mbps((n) => { xchacha20poly1305(key, n).encrypt(data); }, 24)],
  ['@noble/ciphers aes-256-gcm', mbps((n) => { gcm(key, n).encrypt(data); }, 12)],
];
const best = rows[0]![1];
console.log(`## bench:crypto — ${new Date().toISOString()}  (${TOTAL / 1048576} MiB in 64 KiB chunks, median of ${REPS}, load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})\n`);
console.log('| AEAD | MB/s | vs node:crypto chacha20-poly1305 |\n|---|---:|---:|');
for (const [name, v] of rows) console.log(`| ${name} | ${v.toFixed(0)} | ${(v / best).toFixed(2)}x |`);
