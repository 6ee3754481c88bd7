import fs from 'node:fs';
import type { OpenRoot } from '../root/open-root.js';
import { validateDeviceName } from './device-name.js';
import { errors } from '../errors.js';
import type { DeviceRow } from '../store/devices-repo.js';

/** Register a device and create its folder devices/<name>/ (which the sync engine shares with it). */
export function addDevice(r: OpenRoot, nameInput: string, quotaMb: number | null): DeviceRow {
  const name = validateDeviceName(nameInput);
  if (r.store.devices.get(name)) throw errors.deviceExists(name);
  const quota = quotaMb === null ? null : Math.round(quotaMb * 1024 * 1024);
  fs.mkdirSync(r.layout.device(name), { recursive: true });
  return r.store.devices.add(name, quota);
}
