import path from 'node:path';
import type { RootLayout } from '../root/layout.js';
import { anchoredAt } from '../anchored-fs/index.js';

/**
 * How a page opened from file:// knows which device it is on: devices/<d>/.burrow/device.js
 * syncs to that device's files/.burrow/device.js, which catalogue.html includes as
 * ../files/.burrow/device.js. The indexer ignores .burrow/ in device folders.
 * Only devices whose folder exists get one; creating device folders is not ours to do.
 * The write goes through anchored-fs: a devices/<d> or devices/<d>/.burrow that is a symbolic
 * link (a device can plant one through sync) is left alone and reported in `refused`.
 */
export function writeDeviceIdentities(layout: RootLayout, devices: string[]): { written: number; refused: string[] } {
  const A = anchoredAt(layout.root);
  const devicesRel = path.relative(layout.root, layout.devices);
  let written = 0;
  const refused: string[] = [];
  for (const name of devices) {
    const dir = `${devicesRel}/${name}`;
    try {
      if (!A.lstat(dir)?.isDirectory()) continue;
      const body = `window.BURROW_DEVICE=${JSON.stringify({ name })};\n`;
      if (A.writeFileAtomic(`${dir}/.burrow/device.js`, body, { skipIfSame: true })) written++;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ESYMLINK' && code !== 'ENOTDIR' && code !== 'EBADNAME') throw err;
      refused.push(name);
    }
  }
  return { written, refused };
}
