// A hostile user with write access to parts of the root (SMB/NFS on files/, a device through sync):
// swaps each given folder for a symlink to an outside folder and back, in a tight loop, until
// the parent sends "stop". Then it puts every real folder back and reports how many swaps it made.
// argv[2]: JSON [{ "path": "<folder in the root>", "target": "<outside folder>" }]
import fs from 'node:fs';

const pairs = JSON.parse(process.argv[2]);
let stop = false;
let swaps = 0;
let tick = 0;
process.on('message', (m) => {
  if (m === 'stop') stop = true;
});

const away = (p) => `${p}.flipped-away`;
const spin = (ms) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

function toSymlink(p) {
  try {
    fs.renameSync(p.path, away(p.path));
  } catch {
    return false; // not there right now (the NAS removed it, or it never existed)
  }
  try {
    fs.symlinkSync(p.target, p.path);
    return true;
  } catch {
    putBack(p);
    return false;
  }
}

function putBack(p) {
  try {
    if (fs.lstatSync(p.path, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(p.path);
  } catch {}
  try {
    fs.renameSync(away(p.path), p.path);
  } catch {
    // The NAS created a new folder there meanwhile: keep ours beside it, inside the root.
    try {
      fs.renameSync(away(p.path), `${p.path}.kept-${swaps}`);
    } catch {}
  }
}

async function main() {
  while (!stop) {
    for (let i = 0; i < 40 && !stop; i++) {
      const p = pairs[tick++ % pairs.length];
      if (toSymlink(p)) {
        swaps++;
        spin(Math.random() * 1.5);
        putBack(p);
      }
      spin(Math.random() * 1.5);
    }
    await new Promise((r) => setImmediate(r));
  }
  for (const p of pairs) if (fs.lstatSync(away(p.path), { throwIfNoEntry: false })) putBack(p);
  process.send({ swaps }, () => process.exit(0));
}
main();
