import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A private network namespace (made here with `unshare -n`, root only) where a BitTorrent client
 * can reach a server on the host's 127.0.0.1 at a non-loopback address. Transmission refuses
 * peers at 127.0.0.0/8 and ::1 ("martian" addresses), so a peer-wire test on loopback alone
 * never connects. Inside the namespace, `ip`:`port` is forwarded through a Unix socket (which
 * crosses namespaces) to 127.0.0.1:`port` on the host. Nothing leaves the machine: the namespace
 * has no link but its own loopback.
 */
export interface NetnsBridge {
  ip: string;
  /** The command and arguments that run `cmd` inside the namespace. */
  wrap(cmd: string, args: string[]): [string, string[]];
  close(): Promise<void>;
}

const INSIDE = `
const net = require('node:net');
const [ip, port, sock] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(sock);
  c.setNoDelay(true);
  c.pipe(u).pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
}).listen(Number(port), ip, () => console.log('ready'));
// Gone with the process that opened the bridge, even if it dies without closing it.
process.stdin.on('end', () => process.exit(0)).resume();
`;

export async function openBridge(port: number, ip = '10.77.0.1'): Promise<NetnsBridge> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'burrow-netns-'));
  const sock = path.join(dir, 'bridge.sock');
  const conns = new Set<net.Socket>();
  const host = net.createServer((c) => {
    const t = net.connect(port, '127.0.0.1');
    t.setNoDelay(true);
    conns.add(c).add(t);
    c.pipe(t).pipe(c);
    const end = () => {
      c.destroy();
      t.destroy();
      conns.delete(c);
      conns.delete(t);
    };
    c.on('error', end).on('close', end);
    t.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => host.listen(sock, r));
  const child: ChildProcess = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && ip addr add ${ip}/32 dev lo && exec "$0" -e "$1" "$2" "$3" "$4"`, process.execPath, INSIDE, ip, String(port), sock], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the network namespace did not start (exit ${code}): ${err}`)));
  });
  return {
    ip,
    wrap: (cmd, args) => ['nsenter', [`--net=/proc/${child.pid}/ns/net`, cmd, ...args]],
    async close() {
      const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      child.kill('SIGKILL');
      await exited;
      for (const c of conns) c.destroy();
      await new Promise((r) => host.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
