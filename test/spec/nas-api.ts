import fs from 'node:fs';
import path from 'node:path';

/** Talk to a running NAS's HTTP API the way scripts do (with the API token when the NAS has one). */
export async function api<T>(nasRoot: string, url: string, method: 'GET' | 'POST', p: string, body?: unknown): Promise<{ status: number; json: T }> {
  const tokenFile = path.join(nasRoot, '.burrow', 'api-token');
  const headers: Record<string, string> = {};
  if (fs.existsSync(tokenFile)) headers.authorization = `Bearer ${fs.readFileSync(tokenFile, 'utf8').trim()}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as T };
}

export interface ReqStatus {
  id: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  reason?: string;
  result?: Record<string, unknown>;
}
