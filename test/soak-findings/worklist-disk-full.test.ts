import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RequestBook } from '../../device-agents/requests.js';
import { fillToLastByte, smallDisk } from '../helpers/small-disk.js';

// Soak finding 13 (seed 606, 2026-12-03): alpha's revoke was appended to its worklist while the
// disk was full. write(2) wrote the line up to the last free byte and returned, short, without an
// error; the agent took the request as sent, and the NAS saw a line with no end ("...,"con") and
// waited for the rest for good. The next request would have been glued onto that torn line.
const { dir: disk, mounted, cleanup } = smallDisk('burrow-finding-worklist-full-', 1);
afterAll(cleanup);

const item = (id: string) => ({ id, device: 'alpha', action: 'revoke', path: 'dup-67-14.bin', args: { shareId: 'x'.repeat(200) }, confirm: true });

describe.skipIf(!mounted)('a request appended to the worklist of a full disk', () => {
  it('is refused whole (ENOSPC), leaves no torn line, and goes through once there is room', async () => {
    const worklist = path.join(disk, 'files', '.burrow', 'worklist.jsonl');
    const book = new RequestBook(worklist, path.join(disk, 'none.js'), 'alpha');
    await book.append(item('first-000001'));
    // Fill the worklist's last page almost up, then every free page of the disk.
    const pad = 4096 - (fs.statSync(worklist).size % 4096) - 40;
    fs.appendFileSync(worklist, `${' '.repeat(pad - 1)}\n`);
    const size = fs.statSync(worklist).size;
    fillToLastByte(path.join(disk, 'ballast'));

    await expect(book.append(item('second-00002'))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.statSync(worklist).size).toBe(size);
    expect(fs.readFileSync(worklist, 'utf8').endsWith('\n')).toBe(true);
    expect(book.has('second-00002')).toBe(false);

    fs.rmSync(path.join(disk, 'ballast'));
    await book.append(item('second-00002'));
    await book.append(item('third-000003'));
    const ids = fs.readFileSync(worklist, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(['first-000001', 'second-00002', 'third-000003']);
  });
});
