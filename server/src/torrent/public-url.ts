import os from 'node:os';
import type { BurrowConfig } from '../config/schema.js';

/**
 * The address people outside the home reach the torrent listener at: torrent.publicUrl, or
 * http://<torrent.host>:<torrent.port>, with this machine's first LAN IPv4 address when the
 * listener binds every address (then set publicUrl to your router's public name).
 */
export function torrentBaseUrl(config: BurrowConfig): string {
  const t = config.torrent;
  if (t.publicUrl) return t.publicUrl.replace(/\/+$/, '');
  let host = t.host;
  if (host === '0.0.0.0' || host === '::') {
    const lan = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    host = lan?.address ?? '127.0.0.1';
  }
  return `http://${host.includes(':') ? `[${host}]` : host}:${t.port}`;
}

export const webSeedUrl = (base: string, token: string) => `${base}/ws/${token}/`;
export const torrentFileUrl = (base: string, token: string) => `${base}/t/${token}.torrent`;
export const announceUrl = (base: string, passkey: string) => `${base}/tr/${passkey}/announce`;
