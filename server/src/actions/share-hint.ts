import path from 'node:path';
import { qrcode } from '../util/qrcode.js';
import type { ActionEnv, ValidRequest } from './types.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';
import { DEVICE_RESULTS_REL } from '../devices/exchange-formats.js';

/** What the owner hands a friend after [share]: the read-only secret, as text and QR code, and the command to run. Never the read-write secret. */
export interface FriendHint {
  readOnly: string;
  command: string;
  /** The read-only secret as a QR code: a standalone SVG document (black modules on white). */
  qrSvg: string;
}

/** A QR code as SVG, from the qrcode package's module matrix (synchronous, so an action's cleanup can make it). */
export function qrSvg(text: string): string {
  const qr = qrcode().create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const m = 4; // the quiet zone scanners need
  let d = '';
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; ) {
      if (!qr.modules.get(y, x)) {
        x++;
        continue;
      }
      let run = 1;
      while (x + run < n && qr.modules.get(y, x + run)) run++;
      d += `M${x + m} ${y + m}h${run}v1h-${run}z`;
      x += run;
    }
  }
  const size = n + 2 * m;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${d}"/></svg>`;
}

export function friendHint(readOnly: string, sharedPath: string): FriendHint {
  const base = path.posix.basename(sharedPath).replace(/\.[^.]*$/, '') || 'share';
  const dir = `./${base.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  return { readOnly, command: `burrow sync --secret ${readOnly} --dir ${dir}`, qrSvg: qrSvg(readOnly) };
}


/**
 * Hand the hint to the device that asked, through its own folder (devices/<d>/.burrow/results/<id>.json
 * → files/.burrow/results/<id>.json on the device), never through the catalogue every device reads.
 */
export function leaveResultForDevice(env: ActionEnv, req: ValidRequest, result: Record<string, unknown>): void {
  if (!env.store.devices.get(req.device)) return; // the NAS owner ('@nas') has no device folder
  const dir = env.layout.device(req.device);
  writeFileAtomic(path.join(dir, DEVICE_RESULTS_REL, `${req.id}.json`), JSON.stringify({ v: 1, id: req.id, action: req.action, path: req.path, result }) + '\n', { skipIfSame: true });
}
