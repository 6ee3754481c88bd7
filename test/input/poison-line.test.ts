import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNas, stopProc, waitFor, type NasHandle } from '../agent/harness.js';
import { api, poisonLine, startNasWithPhone, stopNasAndClean } from './nas-api.js';

/**
 * Issue 11, item 9, against a real NAS process: a worklist line whose args nest 9,000 deep
 * (54 KB) used to throw inside the offset transaction, so the device's worklist was stuck for
 * good and the same body over HTTP gave a 500.
 */
let started: Awaited<ReturnType<typeof startNasWithPhone>> | undefined;
let nas: NasHandle;
const wl = () => path.join(nas.root, 'devices', 'phone', '.burrow', 'worklist.jsonl');
const append = (text: string) => {
  fs.mkdirSync(path.dirname(wl()), { recursive: true });
  fs.appendFileSync(wl(), text);
};
const line = (o: Record<string, unknown>) => JSON.stringify(o) + '\n';
const linked = (rel: string) => fs.existsSync(path.join(nas.root, 'devices', 'phone', rel));
const stateOf = async (id: string) => (await api(nas.root, nas.url, `/api/requests/${id}`)).json;

beforeAll(async () => {
  started = await startNasWithPhone('burrow-poison-', { 'a.txt': 'a.txt\n', 'b.txt': 'b.txt\n', 'c.txt': 'c.txt\n' });
  nas = started.nas;
}, 60_000);

afterAll(() => stopNasAndClean(started));

describe('a poison worklist line', () => {
  it('becomes a failed request with a reason, and the good line after it runs; also after a restart', async () => {
    const poison = poisonLine('poison-line-01', 'phone', 'c.txt');
    expect(poison.length).toBeGreaterThan(50_000);
    append(poison + '\n' + line({ id: 'good-after-01', device: 'phone', action: 'get', path: 'a.txt' }));
    await waitFor('the good line after the poison line ran', () => linked('a.txt'), 30_000);
    const p = await stateOf('poison-line-01');
    expect(p.state).toBe('failed');
    expect(String(p.reason)).toMatch(/"args" nests more than 8 levels deep/);
    expect(linked('c.txt')).toBe(false);
    expect((await stateOf('good-after-01')).state).toBe('done');

    // Across a restart: the poison line is not read again, the next good line runs once.
    await stopProc(nas);
    nas = started!.nas = await startNas(nas.root);
    append(poisonLine('poison-line-02', 'phone', 'c.txt') + '\n' + line({ id: 'good-after-02', device: 'phone', action: 'get', path: 'b.txt' }));
    await waitFor('the good line after the restart ran', () => linked('b.txt'), 30_000);
    expect((await stateOf('poison-line-02')).state).toBe('failed');
    expect((await stateOf('good-after-01')).state).toBe('done');
    const recent = (await api(nas.root, nas.url, '/api/requests?device=phone&limit=50')).json as unknown as Array<{ id: string }>;
    expect(recent.map((r) => r.id).sort()).toEqual(['good-after-01', 'good-after-02', 'poison-line-01', 'poison-line-02']);
  });

  it('over HTTP the same body is a 400 that names the problem, not a 500', async () => {
    const r = await api(nas.root, nas.url, '/api/requests', { method: 'POST', body: poisonLine('poison-http-01', 'phone', 'c.txt') });
    expect(r.status).toBe(400);
    expect(String(r.json.message)).toMatch(/"args" nests more than 8 levels deep/);
    const big = await api(nas.root, nas.url, '/api/requests', { method: 'POST', body: { id: 'big-http-0001', device: 'phone', action: 'get', path: 'c.txt', args: { x: 'y'.repeat(20_000) } } });
    expect(big.status).toBe(400);
    expect(String(big.json.message)).toMatch(/the limit is 16384 bytes/);
    const huge = await api(nas.root, nas.url, '/api/requests', { method: 'POST', body: { id: 'huge-http-001', device: 'phone', action: 'get', path: 'c.txt', args: { x: 'y'.repeat(100_000) } } });
    expect(huge.status).toBe(413);
    expect(linked('c.txt')).toBe(false);
    // The NAS still answers and still works.
    const ok = await api(nas.root, nas.url, '/api/requests', { method: 'POST', body: { id: 'good-http-001', device: 'phone', action: 'get', path: 'c.txt' } });
    expect(ok.status).toBe(200);
    expect(linked('c.txt')).toBe(true);
  });
});
