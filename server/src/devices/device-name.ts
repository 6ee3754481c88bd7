import { errors } from '../errors.js';

/** Device names become folder names on every device, so they are kept portable and boring. */
export function validateDeviceName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw errors.badDeviceName(String(name), 'it is empty');
  if (name.length > 64) throw errors.badDeviceName(name, 'it is longer than 64 characters');
  if (/^\.+$/.test(name)) throw errors.badDeviceName(name, 'it is only dots');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw errors.badDeviceName(name, 'it may only hold letters, digits, ".", "_" and "-" (no slashes or spaces)');
  return name;
}
