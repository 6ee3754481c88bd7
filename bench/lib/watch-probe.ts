/**
 * Child process for the watcher comparison: watch `dir` with one library, print
 * `ready <ms>` when it is watching, then on "go" from stdin create one file and print
 * `latency <ms>` when its event arrives. The parent reads RSS and inotify usage meanwhile.
 * Usage: node watch-probe.js <burrow|parcel|chokidar> <dir>  (burrow = Burrow's FolderWatcher, debounce 0)
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const [lib, dir] = process.argv.slice(2) as [string, string];
const probe = path.join(dir, `probe-${process.pid}-${Date.now()}.txt`);
let created = 0;
let errors = 0;
let firstError = '';
const onEvent = (p: string) => {
  if (created && p === probe) {
    process.stdout.write(`latency ${(performance.now() - created).toFixed(1)}\n`);
    created = 0;
    fs.rmSync(probe, { force: true });
  }
};
const onError = (err: unknown) => {
  errors++;
  firstError ||= String((err as Error)?.message ?? err).slice(0, 120);
};

const t0 = performance.now();
if (lib === 'parcel') {
  const watcher = (await import('@parcel/watcher')).default;
  await watcher.subscribe(dir, (err, events) => {
    if (err) onError(err);
    for (const e of events) onEvent(e.path);
  });
  ready();
} else if (lib === 'burrow') {
  const { FolderWatcher } = await import('../../server/src/index/watcher.js');
  const fw = new FolderWatcher(0, (paths) => paths.forEach(onEvent), onError);
  await fw.watch(dir);
  ready();
} else if (lib === 'chokidar') {
  const { watch } = await import('chokidar');
  const w = watch(dir, { ignoreInitial: true, persistent: true });
  w.on('add', (p: string) => onEvent(path.resolve(p)));
  w.on('error', onError);
  w.on('ready', ready);
} else {
  throw new Error(`unknown watcher library ${lib}`);
}

function ready(): void {
  process.stdout.write(`ready ${(performance.now() - t0).toFixed(0)} ${errors} ${JSON.stringify(firstError)}\n`);
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    if (l === 'go') {
      created = performance.now();
      fs.writeFileSync(probe, 'x');
    }
  });
}
