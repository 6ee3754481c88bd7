import fs from 'node:fs';
import path from 'node:path';
import type { RootLayout } from '../root/layout.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';

/**
 * How a page opened from file:// knows which device it is on: devices/<d>/.burrow/device.js
 * syncs to that device's files/.burrow/device.js, which catalogue.html includes as
 * ../files/.burrow/device.js. The indexer ignores .burrow/ in device folders.
 * Only devices whose folder exists get one; creating device folders is not ours to do.
 */
export function writeDeviceIdentities(layout: RootLayout, devices: string[]): { written: number } {
  let written = 0;
  for (const name of devices) {
    const dir = layout.device(name);
    if (!fs.existsSync(dir)) continue;
    const body = `window.BURROW_DEVICE=${JSON.stringify({ name })};\n`;
    if (writeFileAtomic(path.join(dir, '.burrow', 'device.js'), body, { skipIfSame: true })) written++;
  }
  return { written };
}
