import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { addDevice, startNas, stopProc, tempRoot, type NasHandle } from '../agent/harness.js';

/**
 * Talk to a running NAS's HTTP API as the owner's scripts do: with the bearer token from
 * <root>/.burrow/api-token when the NAS has one (harmless when it has none).
 */
export function ownerHeaders(root: string): Record<string, string> {
  const file = path.join(root, '.burrow', 'api-token');
  return fs.existsSync(file) ? { Authorization: `Bearer ${fs.readFileSync(file, 'utf8').trim()}` } : {};
}

export async function api(root: string, base: string, p: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(p, base), {
    method: init.method ?? 'GET',
    headers: { ...ownerHeaders(root), ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

/** One GET on a fresh connection, timed from the call to the last byte (ms). */
export function timedGet(base: string, p: string, headers: Record<string, string> = {}): Promise<{ status: number; ms: number }> {
  const u = new URL(p, base);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: Number(u.port), path: u.pathname + u.search, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
  });
}

/** A request line 54 KB long whose args nest 9,000 deep (the poison line of issue 11). */
export function poisonLine(id: string, device: string, p: string): string {
  const depth = 9000;
  return `{"id":${JSON.stringify(id)},"device":${JSON.stringify(device)},"action":"get","path":${JSON.stringify(p)},"args":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
}

/** A real NAS process on a fresh root whose files/ holds `files` (name → content), with device "phone". */
export async function startNasWithPhone(prefix: string, files: Record<string, string>): Promise<{ base: string; nas: NasHandle }> {
  const base = tempRoot(prefix);
  const root = path.join(base, 'nas');
  fs.mkdirSync(path.join(root, 'files'), { recursive: true });
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(root, 'files', name), content);
  const nas = await startNas(root);
  addDevice(root, 'phone');
  return { base, nas };
}

/** Stop the NAS (if started) and remove its temp root. */
export async function stopNasAndClean(started: { base: string; nas: NasHandle } | undefined): Promise<void> {
  if (!started) return;
  await stopProc(started.nas);
  fs.rmSync(started.base, { recursive: true, force: true });
}
