import { qrcode } from '../util/qrcode.js';
import { BurrowError, errors } from '../errors.js';
import type { OpenRoot } from '../root/open-root.js';
import { SecretsRepo } from '../store/secrets-repo.js';
import { MembersRepo } from '../store/members-repo.js';
import { ensureFolderSecrets } from './service.js';
import { encodeJoinString, loadNasKey, nasAddresses } from '../devices/join-string.js';

/** The join string for a registered device, making its folder secret (and the catalogue's) if needed. */
export function joinStringFor(r: OpenRoot, device: string): string {
  if (!r.store.devices.get(device)) throw errors.unknownDevice(device);
  if (r.config.sync.port === 0 && r.config.sync.publicAddresses.length === 0) {
    throw new BurrowError('NO_SYNC_ADDRESS', 'The NAS syncs on a random port (sync.port: 0), so a join string cannot say where to find it.', `Set sync.port (or sync.publicAddresses) in ${r.layout.config}.`);
  }
  const repo = new SecretsRepo(r.store.db);
  const dev = ensureFolderSecrets(repo, 'device', device);
  const cat = ensureFolderSecrets(repo, 'catalogue', 'catalogue');
  // In a group of several NAS, the device may sync with any member: it gets every member's addresses.
  const addresses = nasAddresses(r.config.sync, r.config.sync.port);
  for (const m of new MembersRepo(r.store.db).list()) if (!m.is_self) for (const a of m.addresses) if (!addresses.includes(a)) addresses.push(a);
  return encodeJoinString(
    { device, deviceSecret: dev.readWrite, catalogueSecret: cat.readOnly, addresses },
    loadNasKey(r.layout.keys),
  );
}

/** The widest QR code `joinQr` draws: a terminal is 80 columns unless it says otherwise. */
export const QR_MAX_COLUMNS = 80;

/** How many columns a terminal string takes: its widest line without the ANSI colour codes. */
export function terminalColumns(text: string): number {
  // eslint-disable-next-line no-control-regex
  return Math.max(0, ...text.split('\n').map((l) => [...l.replace(/\x1b\[[0-9;]*m/g, '')].length));
}

/**
 * A QR code of the join string for a terminal: qrcode's small terminal renderer (half-height
 * blocks, one column per module, its own one-module light border in ANSI colours, so it scans on
 * dark terminals too) at the lowest error correction, so a join string of up to ~520 characters
 * takes 79 columns. '' when it cannot be drawn or would be wider than `maxColumns`: a wrapped QR
 * code cannot be scanned, and the string itself is printed anyway.
 */
export async function joinQr(join: string, maxColumns: number = QR_MAX_COLUMNS): Promise<string> {
  try {
    const qr = await qrcode().toString(join, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
    return terminalColumns(qr) <= maxColumns ? qr : '';
  } catch {
    return '';
  }
}
