import http from 'node:http';
import https from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { RootLayout } from '../root/layout.js';
import type { BurrowConfig } from '../config/schema.js';
import { readApiToken } from '../root/api-token.js';
import { BurrowError } from '../errors.js';
import { readHttpRuntime } from './listen.js';
import { readTls } from './tls.js';

/** How the CLI reaches the NAS that holds the root lock: its URL, the API token, the certificate to expect. */
export interface NasEndpoint {
  url: string;
  token: string | undefined;
  /** The certificate's SHA-256 when the NAS serves HTTPS: the CLI pins it instead of trusting a CA. */
  fingerprint: string | undefined;
  /** The certificate (PEM) to trust for that connection. */
  cert: string | undefined;
}

/** Where the running NAS said it listens (.burrow/http.json), else the config; a wildcard bind is reached on loopback. */
export function nasEndpoint(l: RootLayout, config: BurrowConfig): NasEndpoint {
  const rt = readHttpRuntime(l);
  const bind = rt?.host ?? config.http.host;
  const host = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
  const port = rt?.port ?? config.http.port;
  const tls = rt ? rt.tls : false;
  const mat = tls ? readTls(l) : undefined;
  return { url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`, token: readApiToken(l), fingerprint: mat?.fingerprint, cert: mat?.cert };
}

/** One JSON call to the running NAS with the API token; a 4xx/5xx becomes a BurrowError with the NAS's message. */
export async function nasJson(ep: NasEndpoint, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const url = new URL(path, ep.url);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (ep.token) headers.authorization = `Bearer ${ep.token}`;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const secure = url.protocol === 'https:';
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const opts: https.RequestOptions = { method, headers };
    if (secure) {
      // Pin the NAS's own certificate: checked before the token is sent.
      opts.rejectUnauthorized = true;
      if (ep.cert) opts.ca = ep.cert;
      opts.checkServerIdentity = (_host: string, cert: PeerCertificate) =>
        cert.fingerprint256 === ep.fingerprint ? undefined : new Error(`the NAS's certificate (${cert.fingerprint256}) is not the one in .burrow/tls (${ep.fingerprint ?? 'none'})`);
    }
    const req = (secure ? https : http).request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  }).catch((err: unknown) => {
    throw new BurrowError('NAS_UNREACHABLE', `The NAS holds the root lock but does not answer at ${ep.url}: ${(err as Error).message}.`, 'Check http.host and http.port in .burrow/config.yaml, or stop the other process.', { cause: err });
  });
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { message: text };
  }
  if (status >= 400) {
    const j = json as { error?: string; message?: string; hint?: string };
    throw new BurrowError(j.error ?? 'HTTP_ERROR', j.message ?? `The NAS answered ${status}.`, j.hint);
  }
  return { status, json };
}
