import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeServiceFixture, type ServiceFixture } from '../requests/service-fixture.js';
import { worklistPath } from '../../server/src/requests/worklist.js';
import { resolveInside } from '../../server/src/fsutil/safe-path.js';
import { parseConfig } from '../../server/src/config/load.js';
import { CONFIG_TEMPLATE } from '../../server/src/config/template.js';
import { REQUEST_ACTIONS } from '../../server/src/actions/registry.js';
import { BurrowError } from '../../server/src/errors.js';

/**
 * Issue 11: property-based fuzzing (fast-check) of the outside inputs, each for a bounded time:
 * worklist lines through the real worklist reader and request processor on a real root, request
 * paths through the one path validation function, and config files through the config loader.
 * Every input ends as a result or a clear refusal, the worklist offset always advances, and
 * nothing outside the root changes.
 */
const TIME_LIMIT_MS = 10_000;
const run = <T>(prop: fc.IAsyncPropertyWithHooks<[T]> | fc.IPropertyWithHooks<[T]>) =>
  fc.assert(prop as fc.IAsyncProperty<[T]>, { numRuns: 100_000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true });

/** Every file under dir with its SHA-256 (and every symlink with its target), for before/after checks. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) out[p] = `-> ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) walk(p);
      else out[p] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex') + ` ${fs.lstatSync(p).nlink}`;
    }
  };
  walk(dir);
  return out;
}

const HOSTILE_SEGMENTS = ['..', '.', '', '/', '\\', '\0', 'a\u202Eb', '%2e%2e', 'canary', 'escape', 'docs', 'a.txt', '.burrow', 'x'.repeat(300), '\n', '~', 'C:'];
const hostilePath = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.constantFrom(...HOSTILE_SEGMENTS), { maxLength: 6 }).map((s) => s.join('/')),
  fc.constantFrom('', '/', '../canary/secret.txt', '/etc/passwd', 'escape/secret.txt', 'escape', 'docs/../../canary', 'docs//a.txt', 'docs/a.txt/', 'x'.repeat(5000), '.burrow/worklist.jsonl'),
);

describe('fuzz: worklist lines through the real processor', () => {
  let fx: ServiceFixture;
  let canary: string;
  let outside: Record<string, string>;

  beforeAll(async () => {
    fx = await makeServiceFixture({ 'a.txt': 'a', 'docs/b.txt': 'b', 'docs/deep/c.txt': 'c' }, ['phone', 'laptop']);
    // A folder next to the root that nothing may touch, and a symlink into it planted in files/.
    canary = path.join(path.dirname(fx.r.layout.root), 'canary');
    fs.mkdirSync(canary, { recursive: true });
    fs.writeFileSync(path.join(canary, 'secret.txt'), 'outside the root');
    fs.symlinkSync(canary, path.join(fx.r.layout.files, 'escape'));
    fs.mkdirSync(path.dirname(worklistPath(fx.r.layout, 'phone')), { recursive: true });
    outside = snapshot(canary);
  });

  afterAll(async () => {
    await fx?.close();
  });

  // Up to 30,000 levels within the 64 KiB line limit (JSON.stringify overflows its stack near 9,000).
  const deep = fc.oneof(fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 9_000, max: 30_000 })).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`);
  const requestLine = fc
    .record({
      id: fc.oneof(fc.uuid(), fc.string({ maxLength: 20 }), fc.constant('fuzz-fixed-id-1')),
      device: fc.constantFrom('phone', 'laptop', '@nas', '', '../phone'),
      action: fc.oneof(fc.constantFrom(...REQUEST_ACTIONS), fc.string({ maxLength: 10 })),
      path: hostilePath,
      args: fc.oneof(fc.constant(undefined), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }), fc.constant({ to: ['laptop'] }), fc.constant({ name: '../../canary' })),
      confirm: fc.oneof(fc.boolean(), fc.constant('yes')),
    })
    .map((o) => JSON.stringify(o));
  const line = fc.oneof(
    requestLine,
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    deep,
    fc.tuple(fc.uuid(), deep).map(([id, d]) => `{"id":"${id}","device":"phone","action":"get","path":"a.txt","args":{"x":${d}}}`),
    fc.integer({ min: 60_000, max: 70_000 }).map((n) => `{"id":"big-${n}","device":"phone","action":"get","path":"${'y'.repeat(n)}"}`),
  );

  it('every line ends as a request result or a refusal with a reason, the offset reaches the end, nothing outside changes', async () => {
    const wl = worklistPath(fx.r.layout, 'phone');
    let lines = 0;
    await run(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 4 }), async (batch) => {
        fs.appendFileSync(wl, batch.join('\n') + '\n');
        lines += batch.length;
        const size = fs.statSync(wl).size;
        fx.svc.pollDevice('phone');
        const until = Date.now() + 5_000;
        while ((fx.svc.processor.requests.offsetOf('phone')?.byte_offset ?? 0) < size) {
          if (Date.now() > until) throw new Error(`the worklist offset is stuck at ${fx.svc.processor.requests.offsetOf('phone')?.byte_offset} of ${size}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        await fx.svc.processor.idle();
        const open = fx.r.store.db.prepare("SELECT count(*) FROM requests WHERE state NOT IN ('done', 'failed')").pluck().get();
        expect(open).toBe(0);
        const unexplained = fx.r.store.db.prepare("SELECT id FROM requests WHERE state = 'failed' AND (reason IS NULL OR reason = '')").pluck().all();
        expect(unexplained).toEqual([]);
        expect(snapshot(canary)).toEqual(outside);
      }),
    );
    expect(lines).toBeGreaterThan(0);
    console.log(`fuzz: ${lines} worklist lines, ${fx.r.store.db.prepare('SELECT count(*) FROM requests').pluck().get()} requests recorded`);
  }, 60_000);
});

describe('fuzz: request paths through the one validation function', () => {
  let base: string;
  let canary: string;
  beforeAll(() => {
    const t = fs.mkdtempSync(path.join(path.resolve('/tmp'), 'burrow-fuzz-path-'));
    base = path.join(t, 'files');
    canary = path.join(t, 'canary');
    fs.mkdirSync(path.join(base, 'docs', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(base, 'a.txt'), 'a');
    fs.mkdirSync(canary);
    fs.symlinkSync(canary, path.join(base, 'escape'));
    fs.symlinkSync(canary, path.join(base, 'docs', 'canary'));
  });

  it('a path resolves inside the area with no symlink on the way, or is refused with a reason naming it', async () => {
    let n = 0;
    await run(
      fc.property(fc.oneof(hostilePath, fc.anything()), (p) => {
        n++;
        try {
          const r = resolveInside(base, p);
          const rel = path.relative(base, r.abs);
          expect(rel.startsWith('..') || path.isAbsolute(rel)).toBe(false);
          expect(r.rel.split('/')).not.toContain('..');
          // No component on the way is a symlink.
          let cur = base;
          for (const part of r.rel ? r.rel.split('/') : []) {
            cur = path.join(cur, part);
            const st = fs.lstatSync(cur, { throwIfNoEntry: false });
            if (!st) break;
            expect(st.isSymbolicLink()).toBe(false);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(BurrowError);
          expect((err as BurrowError).message).toMatch(/^Refused path .+: .+/);
        }
      }),
    );
    expect(n).toBeGreaterThan(100);
    expect(fs.readdirSync(canary)).toEqual([]);
  });
});

describe('fuzz: config files through the config loader', () => {
  const templateLines = CONFIG_TEMPLATE.split('\n');
  const mutated = fc
    .array(fc.tuple(fc.nat({ max: templateLines.length - 1 }), fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 2 }).map((v) => `  ${'x'}: ${JSON.stringify(v)}`), fc.constantFrom('host: ""', '  port: -1', '  port: 99999999', 'sync: [1,2]', ': :', '&a [*a]', '\t', 'catalogue: null', '  host: 0.0.0.0'))), { maxLength: 5 })
    .map((edits) => {
      const l = [...templateLines];
      for (const [i, s] of edits) l[i] = s;
      return l.join('\n');
    });
  const yamlText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.anything({ maxDepth: 4 }).map((v) => {
      try {
        return YAML.stringify(v) ?? '';
      } catch {
        return String(typeof v);
      }
    }),
    mutated,
    fc.integer({ min: 1, max: 5000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
    fc.integer({ min: 1, max: 40 }).map((n) => `a: &a [x]\n` + Array.from({ length: n }, (_, i) => `b${i}: &b${i} [*${i ? 'b' + (i - 1) : 'a'}, *${i ? 'b' + (i - 1) : 'a'}]`).join('\n')),
  );

  it('a config either loads or is refused with an error that names the file and what was wrong', async () => {
    let n = 0;
    await run(
      fc.property(yamlText, (text) => {
        n++;
        try {
          const cfg = parseConfig(text, 'fuzz.yaml');
          expect(typeof cfg).toBe('object');
        } catch (err) {
          expect(err).toBeInstanceOf(BurrowError);
          expect((err as BurrowError).message).toContain('fuzz.yaml');
          expect((err as BurrowError).message.length).toBeGreaterThan('fuzz.yaml'.length + 10);
        }
      }),
    );
    expect(n).toBeGreaterThan(50);
  });
});
