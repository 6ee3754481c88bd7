/**
 * Property-based fuzz of the NAS HTTP request bodies (issue 11, "Tests"): for ~10 s, fast-check
 * sends the owner's POSTs (requests, trash empty/restore, login) with bodies from near-valid to
 * junk. Every one ends as a result (200/202 with a state) or a clear 4xx refusal, never a 500,
 * and nothing outside the root changes — not even through a symlink in files/ that points out.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authNas, type AuthFixture } from './fixture.js';
import { apiToken } from '../helpers/nas-auth.js';
import { REQUEST_ACTIONS } from '../../server/src/actions/registry.js';

const FUZZ_MS = Number(process.env.BURROW_FUZZ_MS ?? 10_000);
let f: AuthFixture;

/** Path and content hash of every file and link under dir, and the listing of the folder beside the root. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, e.name);
      const st = fs.lstatSync(abs);
      if (e.isDirectory()) walk(abs);
      else out.push(`${path.relative(dir, abs)} ${st.mode.toString(8)} ${st.ino} ${st.nlink} ${e.isSymbolicLink() ? fs.readlinkSync(abs) : crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex')}`);
    }
  };
  walk(dir);
  return out.sort();
}

beforeAll(async () => {
  f = await authNas({ 'docs/a.txt': 'aaa', 'docs/b.txt': 'bbb', 'music/x/song.mp3': 'la la', 'top.txt': 'top' });
  // A way out that every path check must refuse.
  fs.symlinkSync(f.outside, path.join(f.root, 'files/link-out'));
  fs.symlinkSync(path.join(f.outside, 'canary.txt'), path.join(f.root, 'files/canary-link.txt'));
}, 60_000);
afterAll(async () => f?.cleanup());

const tricky = fc.constantFrom('', '.', '..', '../outside', '../../outside/canary.txt', '/etc/passwd', 'docs/../..', 'docs/./a.txt', 'docs\u0000a', 'docs/a.txt/', 'docs//a.txt', '~', 'link-out', 'link-out/canary.txt', 'link-out/deep', 'canary-link.txt', 'docs', 'docs/a.txt', 'music', 'music/x', 'top.txt', 'nope', '%2e%2e', '..\\..', 'docs/\u202eexe.jpg', ' ');
const segment = fc.oneof(fc.constantFrom('docs', 'music', 'x', '..', '.', 'link-out', 'a.txt', 'song.mp3', ''), fc.string({ maxLength: 12 }));
const anyPath = fc.oneof(tricky, fc.array(segment, { maxLength: 5 }).map((s) => s.join('/')), fc.string({ maxLength: 40 }));
const device = fc.oneof(fc.constantFrom('@nas', 'phone', 'laptop', '', '../phone', 'phone/..'), fc.string({ maxLength: 20 }));
const action = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...REQUEST_ACTIONS) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) });
const args = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.record({ to: fc.array(device, { maxLength: 3 }), name: fc.oneof(anyPath, fc.string({ maxLength: 300 })), limitMb: fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.double(), fc.string()), shareId: fc.oneof(fc.string({ maxLength: 30 }), tricky) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
);
const requestBody = fc.oneof(
  { weight: 6, arbitrary: fc.record({ id: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }), device, action, path: anyPath, args, confirm: fc.oneof({ weight: 6, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }) }, { requiredKeys: ['id', 'device', 'action', 'path'] }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);
const trashBody = fc.oneof(fc.record({ id: fc.oneof(fc.string({ maxLength: 30 }), tricky), all: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 50 }));
const call = fc.oneof(
  { weight: 8, arbitrary: requestBody.map((body) => ({ url: '/api/requests?wait=3000', body })) },
  { weight: 2, arbitrary: trashBody.map((body) => ({ url: '/api/trash/empty', body })) },
  { weight: 2, arbitrary: fc.tuple(fc.oneof(fc.string({ maxLength: 30 }), tricky), fc.oneof(fc.constant(undefined), trashBody)).map(([id, body]) => ({ url: `/api/trash/${encodeURIComponent(id)}/restore`, body })) },
  { weight: 1, arbitrary: fc.oneof(fc.record({ password: fc.string({ maxLength: 40 }) }).map((b) => JSON.stringify(b)), fc.string({ maxLength: 40 })).map((body) => ({ url: '/api/login', body })) },
);

describe('HTTP bodies from fast-check', () => {
  it(`every POST ends as a result or a clear 4xx, never a 500, and nothing outside the root changes (${FUZZ_MS} ms)`, async () => {
    const before = snapshot(f.outside);
    const besideBefore = fs.readdirSync(f.dir).sort();
    const token = apiToken(f.root);
    const counts: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(call, fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain'), fc.nat(9), async ({ url, body }, type, dice) => {
        // One call in ten comes from a stranger: refused before its body is even looked at.
        const owner = dice !== 0 || url === '/api/login';
        const res = await f.nas.app.inject({ method: 'POST', url, headers: { ...(owner ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': type } : {}) }, ...(body !== undefined ? { payload: body } : {}) });
        counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
        expect(res.statusCode, `${url} ${body}: ${res.body}`).toBeLessThan(500);
        if (!owner) expect(res.statusCode, `${url} ${body} without the token: ${res.body}`).toBe(401);
        const j = JSON.parse(res.body) as { state?: string; error?: unknown; message?: unknown; emptied?: unknown; restored?: unknown; ok?: unknown };
        if (res.statusCode >= 400) {
          expect(typeof j.error, res.body).toBe('string');
          expect(typeof j.message, res.body).toBe('string');
        } else if (url.startsWith('/api/requests')) expect(['done', 'failed', 'pending', 'running'], res.body).toContain(j.state);
        else expect(j.emptied ?? j.restored ?? j.ok, res.body).toBeDefined();
      }),
      { interruptAfterTimeLimit: FUZZ_MS, markInterruptAsFailure: false, numRuns: 1_000_000, seed: Number(process.env.BURROW_FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(`fuzz: ${total} POSTs in ${FUZZ_MS} ms, by status ${JSON.stringify(counts)}`);
    expect(total).toBeGreaterThan(50);
    expect(snapshot(f.outside)).toEqual(before);
    expect(fs.readdirSync(f.dir).sort()).toEqual(besideBefore);
    // And the NAS still answers.
    expect((await f.nas.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
  }, 60_000);
});
