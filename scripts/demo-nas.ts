/**
 * `npm run demo`: make a deterministic demo store (a few hundred files in nested folders, a few
 * duplicates, two devices holding some of them) and run the NAS on it in the foreground.
 * The root is ./demo-nas unless BURROW_ROOT is set (the only place Burrow has a default root).
 * Re-running reuses the store as it is. The terminal gets human lines; the JSON log goes to
 * <root>/.burrow/logs/burrow.log, and to stderr too with --verbose (npm run demo -- --verbose).
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { initRoot, openRoot } from '../server/src/root/open-root.js';
import { checkAdminPassword, readAdminPasswordHash, setAdminPassword } from '../server/src/root/admin-password.js';
import { layoutOf } from '../server/src/root/layout.js';
import { addDevice } from '../server/src/devices/add-device.js';
import { startNas } from '../server/src/nas.js';
import { logFileOf } from '../server/src/log.js';
import { installStopSignals } from '../server/src/cli/common.js';
import { prng } from '../server/src/util/prng.js';


const ARTISTS = ['Ada Lovelace Trio', 'The Hard Links', 'Inode Orchestra', 'Björk-ish', 'Sigur Rós Cover Band'];
const YEARS = ['2013', '2014', '2015'];
const MONTHS = ['01-winter', '06-summer', '10-autumn'];
const DOCS = ['taxes', 'recipes', 'letters', 'manuals'];

export function makeDemoStore(root: string): { created: boolean; files: number } {
  const already = fs.existsSync(path.join(root, '.burrow', 'burrow.db'));
  initRoot(root);
  if (already) return { created: false, files: 0 };
  const rand = prng(20131028);
  const files = path.join(root, 'files');
  const bytes = (n: number) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
    return b;
  };
  const write = (rel: string, content: Buffer | string) => {
    const abs = path.join(files, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
    fs.utimesSync(abs, new Date(Date.UTC(2013, 9, 28, 23, 59, 59)), new Date(Date.UTC(2013, 9, 28, 23, 59, 59) + Math.floor(rand() * 3e10)));
    count++;
  };
  let count = 0;
  for (const artist of ARTISTS) for (let album = 1; album <= 3; album++) for (let t = 1; t <= 8; t++) write(`Music/${artist}/Album ${album}/${String(t).padStart(2, '0')} Track ${t}.mp3`, bytes(2048 + Math.floor(rand() * 30000)));
  for (const y of YEARS) for (const m of MONTHS) for (let i = 1; i <= 12; i++) write(`Photos/${y}/${m}/IMG_${y}${String(i).padStart(4, '0')}.jpg`, bytes(4096 + Math.floor(rand() * 60000)));
  for (const d of DOCS) for (let i = 1; i <= 10; i++) write(`Documents/${d}/${d}-${i}.txt`, `${d} document ${i}\n${'Lorem ipsum dolor sit amet. '.repeat(1 + Math.floor(rand() * 40))}\n`);
  // A few duplicates, as real stores have: the same photos copied into an "export" folder.
  for (let i = 1; i <= 6; i++) {
    const src = path.join(files, `Photos/2014/06-summer/IMG_2014${String(i).padStart(4, '0')}.jpg`);
    write(`Photos/export-for-grandma/IMG_2014${String(i).padStart(4, '0')}.jpg`, fs.readFileSync(src));
  }
  write('Documents/README (start here).txt', 'Welcome to the Burrow demo store.\nOpen the catalogue and try [get] on a file.\n');
  write('Videos/holiday 2013.mkv', bytes(3 * 1024 * 1024));
  write('Software/empty-placeholder.txt', '');
  // Two devices, each already holding a few files (hard links, as a [get] would make).
  const r = openRoot(root);
  try {
    addDevice(r, 'laptop', 50_000);
    addDevice(r, 'phone', 64);
  } finally {
    r.close();
  }
  const link = (device: string, rel: string) => {
    const dest = path.join(root, 'devices', device, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.linkSync(path.join(files, rel), dest);
  };
  for (let t = 1; t <= 8; t++) link('laptop', `Music/The Hard Links/Album 1/${String(t).padStart(2, '0')} Track ${t}.mp3`);
  link('laptop', 'Documents/README (start here).txt');
  link('phone', 'Photos/2013/01-winter/IMG_20130001.jpg');
  link('phone', 'Documents/README (start here).txt');
  return { created: true, files: count };
}

async function main(): Promise<void> {
  // A demo store has no business announcing itself on the public DHT or the LAN: keep its sync
  // engine to known hosts unless the user asks otherwise (BURROW_NETWORK=public).
  if (process.env.BURROW_NETWORK === undefined) process.env.BURROW_NETWORK = 'private';
  const root = path.resolve(process.env.BURROW_ROOT || './demo-nas');
  const verbose = process.argv.includes('--verbose');
  const made = makeDemoStore(root);
  process.stdout.write(made.created ? `Demo store created at ${root} (${made.files} files, devices: laptop, phone)\n` : `Using the existing demo store at ${root}\n`);
  if (process.argv.includes('--no-start')) return;
  // A demo must be usable from its one command: give a store without an admin password a random
  // one, kept beside the database (0600) so the next demo run can say it again. A real root gets
  // its password from "burrow init" or "burrow password" instead.
  const layout = layoutOf(root);
  const demoPasswordFile = path.join(layout.state, 'demo-password');
  if (!readAdminPasswordHash(layout)) {
    const pw = crypto.randomBytes(12).toString('base64url');
    await setAdminPassword(layout, pw);
    fs.writeFileSync(demoPasswordFile, pw + '\n', { mode: 0o600 });
  }
  const saved = fs.existsSync(demoPasswordFile) ? fs.readFileSync(demoPasswordFile, 'utf8').trim() : undefined;
  // Said again only while it still is the password (the owner may have changed it since).
  const demoPassword = saved && (await checkAdminPassword(layout, saved)) === 'ok' ? saved : undefined;
  const signals = installStopSignals();
  const nas = await startNas(root, { verbose });
  process.stdout.write(
    [
      `Burrow NAS running on ${root}`,
      `  admin UI and API: ${nas.url}/`,
      `  catalogue:        ${nas.url}/catalogue/catalogue.html`,
      `  catalogue file:   ${path.join(root, 'catalogue', 'catalogue.html')}`,
      `  API status:       ${nas.url}/api/status  (send "Authorization: Bearer <${nas.ctx.layout.apiToken}>")`,
      `  log in:           ${demoPassword ? `password ${demoPassword}  (the demo's own; change it with ./burrow password --root ${root})` : 'with the admin password'}`,
      `  log:              ${logFileOf(nas.ctx.layout.logs)}${verbose ? ' (and stderr)' : ' (--verbose: also on stderr)'}`,
      `  network:          ${process.env.BURROW_NETWORK === 'private' ? 'private (no public DHT, no LAN beacons; BURROW_NETWORK=public to change)' : process.env.BURROW_NETWORK}`,
      '  stop with Ctrl-C',
      '',
    ].join('\n'),
  );
  await signals.stopped;
  await nas.stop();
  signals.dispose();
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  main().catch((err) => {
    process.stderr.write(`burrow demo: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
