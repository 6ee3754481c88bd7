import QRCode from 'qrcode';
import { BurrowError, errors } from '../errors.js';
import type { OpenRoot } from '../root/open-root.js';
import { SecretsRepo } from '../store/secrets-repo.js';
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
  return encodeJoinString(
    { device, deviceSecret: dev.readWrite, catalogueSecret: cat.readOnly, addresses: nasAddresses(r.config.sync, r.config.sync.port) },
    loadNasKey(r.layout.keys),
  );
}

/** A QR code of the join string for a terminal (small Unicode blocks), or '' when it cannot be drawn. */
export async function joinQr(join: string): Promise<string> {
  try {
    return await QRCode.toString(join, { type: 'utf8', errorCorrectionLevel: 'L' });
  } catch {
    return '';
  }
}
