import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { REPO } from '../../test/agent/harness.js';

/**
 * One device's "home network": a network namespace joined to the host by a veth pair, so the
 * soak can cut the device off the NAS (`ip link set <ns side> down`) and restore it. The NAS's
 * sync engine listens on the host end's address; the device reaches it only over the veth link.
 *
 * The cut is made on the namespace's end: the host end then only loses its carrier and keeps its
 * address usable for the processes on the host (the other device, the friend).
 *
 * The driver still reaches the device's local API (127.0.0.1 inside the namespace) during a cut,
 * as a user at the device would: a small forwarder in the namespace serves it on a Unix socket in
 * the soak's base folder (Unix sockets do not care about network namespaces).
 */
export class NetnsLink {
  readonly ns: string;
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostIp: string;
  readonly nsIp: string;
  private forwarder: ChildProcess | null = null;
  cut = false;

  private constructor(tag: string) {
    this.ns = `bsoak-${tag}`;
    this.hostIf = `bsk${tag}h`;
    this.nsIf = `bsk${tag}n`;
    const sub = 1 + (parseInt(tag.slice(0, 2), 16) % 250);
    const sub2 = parseInt(tag.slice(2, 4), 16) % 64;
    this.hostIp = `10.217.${sub}.${sub2 * 4 + 1}`;
    this.nsIp = `10.217.${sub}.${sub2 * 4 + 2}`;
  }

  /** Make the namespace and the link, or say why not (null + reason: the caller says so loudly). */
  static create(): { link: NetnsLink | null; why: string } {
    if (process.getuid?.() !== 0) return { link: null, why: 'not running as root' };
    const link = new NetnsLink(crypto.randomBytes(3).toString('hex'));
    try {
      link.ip('netns', 'add', link.ns);
      link.ip('link', 'add', link.hostIf, 'type', 'veth', 'peer', 'name', link.nsIf);
      link.ip('link', 'set', link.nsIf, 'netns', link.ns);
      link.ip('addr', 'add', `${link.hostIp}/30`, 'dev', link.hostIf);
      link.ip('-n', link.ns, 'addr', 'add', `${link.nsIp}/30`, 'dev', link.nsIf);
      link.ip('link', 'set', link.hostIf, 'up');
      link.ip('-n', link.ns, 'link', 'set', link.nsIf, 'up');
      link.ip('-n', link.ns, 'link', 'set', 'lo', 'up');
      return { link, why: '' };
    } catch (err) {
      link.destroy();
      return { link: null, why: `ip netns / veth failed: ${(err as Error).message.split('\n')[0]}` };
    }
  }

  private ip(...args: string[]): void {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** Cut the device off: its end goes down, open connections are left hanging as on a real cut. */
  down(): void {
    this.ip('-n', this.ns, 'link', 'set', this.nsIf, 'down');
    this.cut = true;
  }

  up(): void {
    this.ip('-n', this.ns, 'link', 'set', this.nsIf, 'up');
    this.cut = false;
  }

  /** Serve 127.0.0.1:<port> inside the namespace on a Unix socket (restarted when it dies). */
  forward(socketPath: string, port: number): void {
    fs.rmSync(socketPath, { force: true });
    const script = path.join(REPO, 'dist', 'scripts', 'soak', 'ns-forward.js');
    this.forwarder = spawn('ip', ['netns', 'exec', this.ns, process.execPath, script, socketPath, String(port)], { stdio: 'ignore' });
  }

  /** An HTTP request through the forwarder. */
  static request(socketPath: string, method: string, urlPath: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath, method, path: urlPath, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  destroy(): void {
    this.forwarder?.kill('SIGKILL');
    for (const args of [['link', 'del', this.hostIf], ['netns', 'del', this.ns]]) {
      try {
        this.ip(...args);
      } catch {
        /* already gone (deleting the namespace takes its end of the pair, and the pair with it) */
      }
    }
  }
}
