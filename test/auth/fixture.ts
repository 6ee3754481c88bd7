import fs from 'node:fs';
import path from 'node:path';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';

export interface AuthFixture {
  dir: string;
  root: string;
  /** A folder beside the root that nothing may ever change. */
  outside: string;
  nas: RunningNas;
  cleanup(): Promise<void>;
}

/** A NAS root with two devices and a few files, its sync engine on a free loopback port, running in this process. */
export async function authNas(files: Record<string, string> = { 'docs/a.txt': 'aaa', 'docs/b.txt': 'bbb', 'music/song.mp3': 'la la' }): Promise<AuthFixture> {
  const t = tempDir('burrow-auth-');
  const root = path.join(t.dir, 'nas');
  const outside = path.join(t.dir, 'outside');
  initRoot(root);
  const cfg = path.join(root, '.burrow/config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('  host: 0.0.0.0\n  port: 7421', '  host: 127.0.0.1\n  port: 0').replace(/^( {2}dht:) true$/m, '$1 false').replace(/^( {2}lan:) true$/m, '$1 false'));
  writeFiles(path.join(root, 'files'), files);
  writeFiles(outside, { 'canary.txt': 'do not touch', 'deep/canary2.txt': 'nor this' });
  const r = openRoot(root);
  addDevice(r, 'phone', null);
  addDevice(r, 'laptop', null);
  r.close();
  const nas = await startNas(root, { port: 0, host: '127.0.0.1', watch: false, hash: false });
  return {
    dir: t.dir,
    root,
    outside,
    nas,
    cleanup: async () => {
      await nas.stop();
      t.cleanup();
    },
  };
}

/** Every route the NAS serves, as [method, url with sample params], read from fastify's own route tree. */
export function everyRoute(nas: RunningNas): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of nas.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)── (\S+) \(([A-Z, ]+)\)/.exec(line);
    if (!m) continue;
    const depth = Math.floor(m[1]!.length / 4);
    const parent = depth === 0 ? '' : stack[depth - 1]!;
    const full = parent + (m[2] === '*' && !parent.endsWith('/') ? '/*' : m[2]!);
    stack[depth] = full;
    const url = full.replace(/:id\b/g, 'sample-id').replace(/\*/g, 'index.html');
    for (const method of m[3]!.split(',').map((s) => s.trim())) if (method !== 'HEAD') out.push([method, url]);
  }
  return out;
}
