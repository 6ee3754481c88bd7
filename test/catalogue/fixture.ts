import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initRoot, openRoot, type OpenRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { scanRoot } from '../../server/src/index/scanner.js';
import { publishCatalogue, type PublishStats } from '../../server/src/catalogue/publish.js';

export const HOSTILE_NAMES = [
  '<img src=x onerror=alert(1)>.jpg',
  `"'><script>alert(1)</script>`,
  'line\nbreak.txt',
  'rtl\u202Egpj.exe',
  'a'.repeat(251) + '.txt', // 255 bytes
  'pipe|and\\back.txt',
  '%2e%2e & ?#.txt',
];

export interface Fixture {
  root: string;
  r: OpenRoot;
  write(rel: string, content?: string): void;
  link(rel: string, device: string): void;
  rescan(): void;
  publish(): PublishStats;
  /** A copy of catalogue/ laid out as on the device (catalogue/ next to files/.burrow/device.js). */
  deviceView(device: string | null): string;
  cleanup(): void;
}

export function makeFixture(prefix = 'burrow-cat-'): Fixture {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const root = path.join(tmp, 'nas');
  initRoot(root);
  const r = openRoot(root);
  const f: Fixture = {
    root,
    r,
    write(rel, content = rel) {
      const abs = path.join(r.layout.files, rel);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, content);
    },
    link(rel, device) {
      const dst = path.join(r.layout.device(device), rel);
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.linkSync(path.join(r.layout.files, rel), dst);
    },
    rescan() {
      scanRoot(r.store, r.layout);
    },
    publish() {
      return publishCatalogue({ store: r.store, layout: r.layout, trashDays: r.config.trash.retentionDays });
    },
    deviceView(device) {
      const view = path.join(tmp, `view-${device ?? 'none'}-${Math.random().toString(36).slice(2, 8)}`);
      fs.cpSync(r.layout.catalogue, path.join(view, 'catalogue'), { recursive: true });
      fs.mkdirSync(path.join(view, 'files', '.burrow'), { recursive: true });
      if (device) fs.copyFileSync(path.join(r.layout.device(device), '.burrow', 'device.js'), path.join(view, 'files', '.burrow', 'device.js'));
      return path.join(view, 'catalogue', 'catalogue.html');
    },
    cleanup() {
      r.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  return f;
}

export function addDevices(f: Fixture, ...names: string[]): void {
  for (const n of names) addDevice(f.r, n, null);
}
