import path from 'node:path';
import type { OpenRoot } from '../root/open-root.js';
import { validateDeviceName } from './device-name.js';
import { errors } from '../errors.js';
import { anchoredAt } from '../anchored-fs/index.js';
import type { DeviceRow } from '../store/devices-repo.js';

/** Register a device and create its folder devices/<name>/ (which the sync engine shares with it). */
export function addDevice(r: OpenRoot, nameInput: string, quotaMb: number | null): DeviceRow {
  const name = validateDeviceName(nameInput);
  if (r.store.devices.get(name)) throw errors.deviceExists(name);
  const quota = quotaMb === null ? null : Math.round(quotaMb * 1024 * 1024);
  anchoredAt(r.layout.root).mkdirp(path.relative(r.layout.root, r.layout.device(name))); // never through a symlinked devices/
  return r.store.devices.add(name, quota);
}
