import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestBook } from '../../device-agents/requests.js';
import { tempDir } from '../helpers/tmp.js';

let t: ReturnType<typeof tempDir> | undefined;
afterEach(() => t?.cleanup());

function setup() {
  t = tempDir('burrow-book-');
  const worklist = path.join(t.dir, 'files', '.burrow', 'worklist.jsonl');
  const shard = path.join(t.dir, 'catalogue', 'devices', 'desk.js');
  fs.mkdirSync(path.dirname(worklist), { recursive: true });
  fs.mkdirSync(path.dirname(shard), { recursive: true });
  const item = (i: number, action = 'get', p = `f${i}.txt`, args: Record<string, unknown> = {}) => ({ id: `req-${String(i).padStart(4, '0')}`, device: 'desk', action, path: p, args, confirm: true });
  /** What the NAS publishes: only the newest rows (older ones fell off), and how far it has read the worklist. */
  const publish = (rows: Array<ReturnType<typeof item>>, readTo?: number) =>
    fs.writeFileSync(shard, `BURROW_REQUESTS(${JSON.stringify('desk')},${JSON.stringify(rows.map((r) => ({ id: r.id, action: r.action, path: r.path, state: 'done', reason: null, updatedAt: 1 })))}${readTo === undefined ? '' : ',' + JSON.stringify({ worklistReadTo: readTo })});\n`);
  return { worklist, shard, item, publish, book: () => new RequestBook(worklist, shard, 'desk') };
}

describe("the agent's request book", () => {
  it('after a restart, requests the NAS read long ago and no longer lists are not pending', async () => {
    const s = setup();
    const items = Array.from({ length: 10 }, (_, i) => s.item(i));
    fs.writeFileSync(s.worklist, items.map((w) => JSON.stringify(w) + '\n').join(''));
    const readTo = fs.statSync(s.worklist).size;
    s.publish(items.slice(7), readTo); // the NAS lists only its newest rows, e.g. after many CLI requests
    const book = s.book();
    book.load(); // a restarted agent
    expect(book.pending()).toEqual([]);
    // A request the NAS has not read yet is pending.
    await book.append(s.item(10));
    expect(book.pending().map((r) => r.id)).toEqual(['req-0010']);
    s.publish(items.slice(8), fs.statSync(s.worklist).size);
    expect(book.pending()).toEqual([]);
  });

  it('knows what this device let go (so a missing file is not "syncing to this device")', async () => {
    const s = setup();
    const book = s.book();
    book.load();
    await book.append(s.item(1, 'get', 'photos'));
    expect(book.leaving('photos/a.jpg')).toBe(false);
    await book.append(s.item(2, 'delete', 'photos/a.jpg'));
    expect(book.leaving('photos/a.jpg')).toBe(true);
    expect(book.leaving('photos/b.jpg')).toBe(false);
    await book.append(s.item(3, 'destroy-folder', 'photos'));
    expect(book.leaving('photos/b.jpg')).toBe(true);
    await book.append(s.item(4, 'move', 'x.txt', { to: ['phone'] }));
    expect(book.leaving('x.txt')).toBe(true);
    await book.append(s.item(5, 'move', 'y.txt', { to: ['desk'] }));
    expect(book.leaving('y.txt')).toBe(false);
  });

  it("a done share's result left for this device is part of its state", async () => {
    const s = setup();
    const book = s.book();
    const w = s.item(1, 'share', 'a.txt');
    await book.append(w);
    s.publish([w], fs.statSync(s.worklist).size);
    expect(book.state(w.id)?.result).toBeUndefined();
    fs.mkdirSync(path.join(path.dirname(s.worklist), 'results'));
    fs.writeFileSync(path.join(path.dirname(s.worklist), 'results', `${w.id}.json`), JSON.stringify({ v: 1, id: w.id, result: { friend: { readOnly: 'Bxyz' } } }));
    expect(book.state(w.id)).toMatchObject({ state: 'done', result: { friend: { readOnly: 'Bxyz' } } });
  });
});
