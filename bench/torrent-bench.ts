/**
 * npm run bench:torrent — Burrow's torrents against the reference tools, in the same run.
 *
 * 1. Creating the torrent of 2 GiB of mixed files (one 1 GiB file, 8 of 64 MiB, 256 of 1 MiB,
 *    1,024 of 4-252 KiB in nested folders), page cache warm for both: Burrow's makeTorrent (the
 *    code the [create torrent] action runs: list, hash in worker threads, bencode) vs Debian's
 *    `mktorrent` (all cores, its default) with the same piece length. The two .torrent files must
 *    hold the same piece hashes.
 * 2. transmission-cli downloading a 1 GiB file on loopback: from a running NAS (`burrow start`,
 *    the torrent's web seed) vs the same client fetching the same file from a plain node:http
 *    static server with Range support (a mktorrent-made torrent whose web seed points at it).
 *
 * 3. transmission-cli downloading the same 1 GiB over the BitTorrent peer wire only: the NAS's
 *    .torrent with its web seed removed, so the client finds the NAS through its tracker and
 *    fetches every block from it, vs the same client fetching from the plain HTTP server (web
 *    seed). Transmission refuses loopback peers, so in this part the client runs in a network
 *    namespace (unshare -n, root) bridged to 127.0.0.1 (bench/lib/netns-bridge.ts), for both
 *    sources alike.
 *
 * Environment: BENCH_REPS (3), BENCH_DIR (/tmp/burrow-torrent-bench), BENCH_ONLY=create,download,peer.
 * Progress on stderr; the markdown tables on stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import bencode from 'bencode';
import { initRoot, openRoot } from '../server/src/root/open-root.js';
import { makeTorrent } from '../server/src/torrent/make-torrent.js';
import { pieceLengthFor } from '../server/src/torrent/piece-length.js';
import { median, fmtMs, fmtRatio, markdownTable, verdict } from './lib/stats.js';
import { waitForLine, stopChild } from './lib/proc.js';
import { transmissionDownload } from './lib/transmission.js';
import { openBridge } from './lib/netns-bridge.js';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const BASE = process.env.BENCH_DIR ?? '/tmp/burrow-torrent-bench';
const ONLY = new Set((process.env.BENCH_ONLY ?? 'create,download,peer').split(','));
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const cli = path.join(repo, 'bin', 'burrow.js');
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const log = (msg: string) => process.stderr.write(`[bench:torrent ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/** Deterministic incompressible bytes (AES-CTR keystream), written in 8 MiB blocks. */
function writeRandomFile(file: string, size: number, seed: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const c = crypto.createCipheriv('aes-256-ctr', crypto.createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  const fd = fs.openSync(file, 'w');
  const zero = Buffer.alloc(8 * MiB);
  for (let left = size; left > 0; left -= zero.length) fs.writeSync(fd, c.update(zero.subarray(0, Math.min(left, zero.length))));
  fs.closeSync(fd);
}

function ensureMixedTree(dir: string): number {
  const marker = `${dir}.complete`;
  if (!fs.existsSync(marker)) {
    log(`writing 2 GiB of mixed files into ${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
    writeRandomFile(path.join(dir, 'video/big.mkv'), GiB, 'big');
    for (let i = 0; i < 8; i++) writeRandomFile(path.join(dir, `iso/disk-${i}.iso`), 64 * MiB, `iso${i}`);
    for (let i = 0; i < 256; i++) writeRandomFile(path.join(dir, `photos/${i % 16}/img-${i}.raw`), MiB, `raw${i}`);
    // Fill the rest to exactly 2 GiB with 1,024 small files in nested folders.
    let rest = 2 * GiB - GiB - 8 * 64 * MiB - 256 * MiB;
    for (let i = 0; i < 1024; i++) {
      const size = i === 1023 ? rest : 4 * KiB + ((i * 7919) % 62) * 4 * KiB;
      writeRandomFile(path.join(dir, `docs/${i % 8}/${i % 5}/note-${i}.txt`), size, `doc${i}`);
      rest -= size;
    }
    fs.writeFileSync(marker, '');
  }
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else total += fs.statSync(path.join(d, e.name)).size;
    }
  };
  walk(dir);
  return total;
}

/** Read every file once so both tools hash from the page cache. */
function warm(dir: string): void {
  execFileSync('sh', ['-c', `find '${dir}' -type f -exec cat {} + > /dev/null`]);
}

function piecesOf(torrentFile: string): Buffer {
  const t = bencode.decode(fs.readFileSync(torrentFile)) as { info: { pieces: Uint8Array } };
  return Buffer.from(t.info.pieces);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The reference web seed: a plain static file server with single-range support, nothing else. */
function plainServer(dir: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      res.writeHead(404);
      return void res.end();
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Math.min(st.size - 1, Number(m[2])) : st.size - 1;
    res.writeHead(m ? 206 : 200, { 'content-length': end - start + 1, 'accept-ranges': 'bytes', ...(m ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}) });
    fs.createReadStream(file, { start, end, highWaterMark: MiB }).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
      }),
    ),
  );
}

async function benchCreate(): Promise<string> {
  const root = path.join(BASE, 'create-nas');
  if (!fs.existsSync(path.join(root, '.burrow'))) initRoot(root);
  const bytes = ensureMixedTree(path.join(root, 'files/mixed'));
  const r = openRoot(root);
  const pl = pieceLengthFor(bytes);
  const burrowMs: number[] = [];
  const mkMs: number[] = [];
  const burrowCpu: number[] = [];
  const mkCpu: number[] = [];
  let same = true;
  try {
    for (let i = 0; i < REPS; i++) {
      warm(path.join(root, 'files/mixed'));
      let t0 = performance.now();
      const cpu0 = process.cpuUsage(); // this process and its worker threads
      const made = await makeTorrent(r.layout.files, 'mixed', 'public', r.config, '@nas', new Date());
      burrowMs.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      burrowCpu.push((cpu.user + cpu.system) / 1000);
      const ours = path.join(BASE, 'burrow.torrent');
      fs.writeFileSync(ours, made.row.metainfo);
      warm(path.join(root, 'files/mixed'));
      const theirs = path.join(BASE, 'mktorrent.torrent');
      fs.rmSync(theirs, { force: true });
      t0 = performance.now();
      // bash's `time` reports the child's user and system CPU seconds.
      const mk = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; time mktorrent -l ${Math.log2(pl)} -w http://127.0.0.1:1/ -o '${theirs}' '${path.join(root, 'files/mixed')}' > /dev/null`], { encoding: 'utf8' });
      mkMs.push(performance.now() - t0);
      if (mk.status !== 0) throw new Error(`mktorrent failed: ${mk.stderr}`);
      const [u, sy] = mk.stderr.trim().split('\n').pop()!.split(' ').map(Number);
      mkCpu.push((u! + sy!) * 1000);
      same &&= piecesOf(ours).equals(piecesOf(theirs));
      log(`create rep ${i + 1}: burrow ${fmtMs(burrowMs.at(-1)!)} (cpu ${fmtMs(burrowCpu.at(-1)!)}), mktorrent ${fmtMs(mkMs.at(-1)!)} (cpu ${fmtMs(mkCpu.at(-1)!)})`);
    }
  } finally {
    r.close();
  }
  const b = mbps(bytes, median(burrowMs));
  const m = mbps(bytes, median(mkMs));
  return [
    `Creating the torrent of ${(bytes / GiB).toFixed(0)} GiB of mixed files (1,289 files, piece length ${pl / MiB} MiB, ${Math.ceil(bytes / pl)} pieces; page cache warm; median of ${REPS}; same piece hashes as mktorrent: ${same ? 'yes' : 'NO'})`,
    '',
    // The NAS keeps its hashing threads for a minute after a torrent: the first run starts them.
    `Burrow's first run, which starts the hashing threads: ${fmtMs(burrowMs[0]!)} (${fmtRatio(mbps(bytes, burrowMs[0]!) / m)} mktorrent's median).`,
    '',
    markdownTable(
      ['tool', 'median time', 'MB/s', 'vs mktorrent', 'goal', 'verdict', 'each run', 'median CPU time (user+sys)', 'MB per CPU second'],
      [
        ['Burrow makeTorrent (worker threads, node:crypto sha1)', fmtMs(median(burrowMs)), b.toFixed(0), fmtRatio(b / m), '≥ 0.90x', verdict(b / m, 0.9, 'min'), burrowMs.map(fmtMs).join(', '), fmtMs(median(burrowCpu)), mbps(bytes, median(burrowCpu)).toFixed(0)],
        [`mktorrent 1.1 (${os.availableParallelism()} threads)`, fmtMs(median(mkMs)), m.toFixed(0), '1.00x', '', '', mkMs.map(fmtMs).join(', '), fmtMs(median(mkCpu)), mbps(bytes, median(mkCpu)).toFixed(0)],
      ],
    ),
  ].join('\n');
}

/**
 * The NAS both download benches seed from: a root holding one 1 GiB file (made once, kept
 * between runs), its listeners on free loopback ports with the torrent section's publicUrl set
 * as given, started, and a torrent of the file made. Stops the NAS if any of that fails.
 */
async function oneGibNas(publicUrl: (torrentPort: number) => string): Promise<{ root: string; nas: ChildProcess; made: { torrent: string; pieceLength: number }; torrentPort: number }> {
  const root = path.join(BASE, 'dl-nas');
  if (!fs.existsSync(path.join(root, 'files/one-gib.bin'))) {
    fs.rmSync(root, { recursive: true, force: true });
    execFileSync(process.execPath, [cli, 'init', '--root', root]);
    log('writing the 1 GiB file');
    writeRandomFile(path.join(root, 'files/one-gib.bin'), GiB, 'dl');
  }
  const httpPort = await freePort();
  const torrentPort = await freePort();
  const cfgFile = path.join(root, '.burrow/config.yaml');
  const cfg = fs
    .readFileSync(cfgFile, 'utf8')
    .replace(/^(http:\n(?:.*\n)*?  port: )\d+/m, `$1${httpPort}`)
    .replace(/^(sync:\n(?:.*\n)*?  port: )\d+/m, '$10')
    .replace(/^(torrent:\n(?:.*\n)*?  host: ).*\n((?:.*\n)*?  port: )\d+/m, `$1127.0.0.1\n$2${torrentPort}`)
    .replace(/^(torrent:\n(?:.*\n)*?  publicUrl: ).*$/m, `$1${publicUrl(torrentPort)}`);
  fs.writeFileSync(cfgFile, cfg);
  const nas = spawn(process.execPath, [cli, 'start', '--root', root, '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BURROW_LOG_LEVEL: 'warn', BURROW_NETWORK: 'private' } });
  try {
    await waitForLine(nas, /Burrow NAS running/, 60_000, 'burrow start');
    const made = JSON.parse(execFileSync(process.execPath, [cli, 'torrent', 'one-gib.bin', '--root', root, '--json'], { encoding: 'utf8', env: { ...process.env, BURROW_LOG_LEVEL: 'warn' } })) as { torrent: string; pieceLength: number };
    return { root, nas, made, torrentPort };
  } catch (err) {
    await stopChild(nas);
    throw err;
  }
}

async function benchDownload(): Promise<string> {
  const size = GiB;
  const { root, nas, made } = await oneGibNas(() => '""');
  const plain = await plainServer(path.join(root, 'files'));
  const burrowMs: number[] = [];
  const plainMs: number[] = [];
  try {
    const plainTorrent = path.join(BASE, 'plain.torrent');
    fs.rmSync(plainTorrent, { force: true });
    execFileSync('mktorrent', ['-l', String(Math.log2(made.pieceLength)), '-w', `http://127.0.0.1:${plain.port}/one-gib.bin`, '-o', plainTorrent, path.join(root, 'files/one-gib.bin')], { stdio: 'ignore' });
    warm(path.join(root, 'files'));
    for (let i = 0; i < REPS; i++) {
      for (const [name, torrent, out] of [
        ['burrow', made.torrent, burrowMs],
        ['plain', plainTorrent, plainMs],
      ] as const) {
        const d = await transmissionDownload(torrent, path.join(BASE, `dl-${name}`), 600_000);
        if (!d.complete) throw new Error(`${name}: transmission-cli did not finish\n${d.log}`);
        const got = fs.statSync(path.join(d.out, 'one-gib.bin')).size;
        if (got !== size) throw new Error(`${name}: downloaded ${got} bytes`);
        out.push(d.ms);
        fs.rmSync(d.out, { recursive: true, force: true });
        log(`download rep ${i + 1} ${name}: ${fmtMs(d.ms)}`);
      }
    }
  } finally {
    await plain.close();
    await stopChild(nas);
  }
  const b = mbps(size, median(burrowMs));
  const p = mbps(size, median(plainMs));
  return [
    `transmission-cli 3.00 downloading 1 GiB on loopback, from the start of the client to the completion script (median of ${REPS}; the two sources alternate)`,
    '',
    markdownTable(
      ['source', 'median time', 'MB/s', 'vs plain HTTP', 'goal', 'verdict'],
      [
        ['Burrow NAS web seed (burrow start, torrent.port)', fmtMs(median(burrowMs)), b.toFixed(0), fmtRatio(b / p), '≥ 0.80x', verdict(b / p, 0.8, 'min')],
        ['plain node:http static server with Range', fmtMs(median(plainMs)), p.toFixed(0), '1.00x', '', ''],
      ],
    ),
  ].join('\n');
}

async function benchPeer(): Promise<string> {
  const size = GiB;
  const NAS_IP = '10.77.0.1';
  const PLAIN_IP = '10.77.0.2';
  const { root, nas, made, torrentPort } = await oneGibNas((port) => `"http://${NAS_IP}:${port}"`);
  const plain = await plainServer(path.join(root, 'files'));
  const nasBridge = await openBridge(torrentPort, NAS_IP);
  const plainBridge = await openBridge(plain.port, PLAIN_IP);
  const burrowMs: number[] = [];
  const plainMs: number[] = [];
  try {
    const meta = bencode.decode(fs.readFileSync(made.torrent)) as Record<string, unknown>;
    delete meta['url-list'];
    const peerTorrent = path.join(BASE, 'peer-only.torrent');
    fs.writeFileSync(peerTorrent, bencode.encode(meta as never));
    const plainTorrent = path.join(BASE, 'plain-ns.torrent');
    fs.rmSync(plainTorrent, { force: true });
    execFileSync('mktorrent', ['-l', String(Math.log2(made.pieceLength)), '-w', `http://${PLAIN_IP}:${plain.port}/one-gib.bin`, '-o', plainTorrent, path.join(root, 'files/one-gib.bin')], { stdio: 'ignore' });
    warm(path.join(root, 'files'));
    for (let i = 0; i < REPS; i++) {
      for (const [name, torrent, out, bridge] of [
        ['burrow-peer', peerTorrent, burrowMs, nasBridge],
        ['plain', plainTorrent, plainMs, plainBridge],
      ] as const) {
        const d = await transmissionDownload(torrent, path.join(BASE, `dl-${name}`), 900_000, bridge);
        if (!d.complete) throw new Error(`${name}: transmission-cli did not finish\n${d.log}`);
        const got = fs.statSync(path.join(d.out, 'one-gib.bin')).size;
        if (got !== size) throw new Error(`${name}: downloaded ${got} bytes`);
        out.push(d.ms);
        fs.rmSync(d.out, { recursive: true, force: true });
        log(`peer-wire rep ${i + 1} ${name}: ${fmtMs(d.ms)}`);
      }
    }
  } finally {
    await nasBridge.close();
    await plainBridge.close();
    await plain.close();
    await stopChild(nas);
  }
  const b = mbps(size, median(burrowMs));
  const p = mbps(size, median(plainMs));
  return [
    `transmission-cli 3.00 downloading 1 GiB over the peer wire from the NAS (tracker + peer wire, no web seed in the .torrent) vs from a plain HTTP web seed; the client in a network namespace bridged to loopback for both (median of ${REPS}; the two sources alternate)`,
    '',
    markdownTable(
      ['source', 'median time', 'MB/s', 'vs plain HTTP', 'goal', 'verdict', 'each run'],
      [
        ['Burrow NAS peer wire (burrow start, torrent.port: tracker + seed)', fmtMs(median(burrowMs)), b.toFixed(0), fmtRatio(b / p), '≥ 0.80x', verdict(b / p, 0.8, 'min'), burrowMs.map(fmtMs).join(', ')],
        ['plain node:http static server with Range (web seed)', fmtMs(median(plainMs)), p.toFixed(0), '1.00x', '', '', plainMs.map(fmtMs).join(', ')],
      ],
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  fs.mkdirSync(BASE, { recursive: true });
  const parts: string[] = [];
  log(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (ONLY.has('create')) parts.push(await benchCreate());
  if (ONLY.has('download')) parts.push(await benchDownload());
  if (ONLY.has('peer')) parts.push(await benchPeer());
  parts.push(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')} (${os.availableParallelism()} cores)`);
  process.stdout.write(parts.join('\n\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench:torrent failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
