import { qrcode } from '../util/qrcode.js';
import type { OpenRoot } from '../root/open-root.js';
import { readHttpRuntime } from '../http/listen.js';
import { processAlive } from '../util/process-alive.js';
import { BurrowError } from '../errors.js';
import { createJoinToken, webCredentials, JOIN_PATH } from './web-join.js';

export interface WebJoinLink {
  device: string;
  url: string;
  expiresAt: number;
  /** The origin the link uses, and whether a phone's browser will trust it without help. */
  origin: string;
  trusted: boolean;
  /** SVG data URL of the link's QR code. */
  qr: string;
}

/**
 * The origin browsers reach the NAS at: http.publicUrl, else the address the running NAS
 * serves on. A phone's browser needs a certificate it trusts for the web app (service worker,
 * storage); a self-signed one or plain HTTP off loopback is reported as not trusted.
 */
export function webOrigin(r: Pick<OpenRoot, 'config' | 'layout'>, override?: string): { origin: string; trusted: boolean } {
  const configured = override ?? r.config.http.publicUrl;
  if (configured) {
    let u: URL;
    try {
      u = new URL(configured);
    } catch {
      throw new BurrowError('BAD_URL', `${JSON.stringify(configured)} is not a URL.`, 'Give the HTTPS address phones reach the NAS at, e.g. https://burrow.example.org.');
    }
    if (u.protocol !== 'https:') throw new BurrowError('BAD_URL', `${configured} is not HTTPS: browsers keep the web app's storage and offline mode to HTTPS origins.`, 'Put the NAS behind a reverse proxy with a real domain (Caddy), or a VPN with HTTPS names; see the README, "Add your phone or laptop".');
    return { origin: u.origin, trusted: true };
  }
  const rt = readHttpRuntime(r.layout);
  if (rt && processAlive(rt.pid)) {
    const host = rt.host === '0.0.0.0' || rt.host === '::' ? '127.0.0.1' : rt.host;
    return { origin: `${rt.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${rt.port}`, trusted: false };
  }
  const h = r.config.http;
  return { origin: `${h.tls === 'off' ? 'http' : 'https'}://${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`, trusted: false };
}

/** A new one-time join link for a registered device, with its QR code. */
export async function makeWebJoinLink(r: Pick<OpenRoot, 'config' | 'layout' | 'store'>, device: string, override?: string): Promise<WebJoinLink> {
  if (!r.store.devices.get(device)) throw new BurrowError('UNKNOWN_DEVICE', `There is no device called ${JSON.stringify(device)}.`, `Add it first: burrow device add ${device} --web`);
  const { origin, trusted } = webOrigin(r, override);
  const { token, expiresAt } = createJoinToken(webCredentials(r.store.db), device);
  const url = `${origin}${JOIN_PATH}${token}`;
  const svg = await qrcode().toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  return { device, url, expiresAt, origin, trusted, qr: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
}

/** The link's QR code for a terminal (qrcode's small renderer), or '' when it cannot be drawn. */
export async function terminalQr(url: string): Promise<string> {
  try {
    return await qrcode().toString(url, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
  } catch {
    return '';
  }
}

/** Sign every browser of this device out, and void its unused join links. */
export function revokeWeb(r: Pick<OpenRoot, 'store'>, device: string): number {
  return webCredentials(r.store.db).revokeDevice(device, Date.now());
}
