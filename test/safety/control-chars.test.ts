import { afterEach, describe, expect, it } from 'vitest';
import { normaliseRelPath } from '../../server/src/fsutil/safe-path.js';
import { makeFixture, exists, type Fixture } from '../requests/fixture.js';

/** Issue 11, item 5: control characters in a path are refused, as normaliseRelPath's comment says. */
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('control characters in names', () => {
  it.each([
    ['a\nb.txt', 'U+000A'],
    ['dir\r/x', 'U+000D'],
    ['bell\u0007', 'U+0007'],
    ['esc\u001b[31m.txt', 'U+001B'],
    ['del\u007f', 'U+007F'],
    ['c1\u0085.txt', 'U+0085'],
  ])('normaliseRelPath refuses %j, naming %s', (input, code) => {
    expect(() => normaliseRelPath(input)).toThrow(new RegExp(`control character ${code.replace('+', '\\+')}`));
  });

  it('still accepts Unicode names and spaces', () => {
    expect(normaliseRelPath('Fotos 2020/été 🙂.jpg')).toBe('Fotos 2020/été 🙂.jpg');
  });

  it('a request for a file whose name holds a control character is refused before anything is done', async () => {
    fx = await makeFixture({ files: { 'evil\u0007name.txt': 'x' } });
    const st = await fx.run('get', 'evil\u0007name.txt', { device: 'phone' });
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/control character U\+0007/);
    expect(exists(fx.dev('phone', 'evil\u0007name.txt'))).toBe(false);
  });
});
