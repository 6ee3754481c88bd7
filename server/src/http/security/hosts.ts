import net from 'node:net';
import os from 'node:os';

/**
 * The names the NAS answers to in the Host header: loopback, the bind address (every interface
 * address and this machine's name when bound to a wildcard), and http.allowedHosts. Any other
 * Host is a page that resolved its own name to this machine (DNS rebinding) and gets 421.
 */
export function allowedHostnames(bindHost: string, extra: string[]): Set<string> {
  const names = new Set<string>(['127.0.0.1', 'localhost', '::1']);
  const add = (h: string) => names.add(h.toLowerCase().replace(/\.$/, ''));
  if (bindHost === '0.0.0.0' || bindHost === '::') {
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) add(a.address.split('%')[0]!);
    add(os.hostname());
    add(`${os.hostname()}.local`);
  } else add(bindHost);
  for (const h of extra) add(h);
  return names;
}

/** The host part of a Host header ("[::1]:7420" → "::1", "NAS.local." → "nas.local"), or undefined when malformed. */
export function hostnameOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(header) ?? /^([^:[\]\s]+)(?::\d{1,5})?$/.exec(header);
  if (!m) return undefined;
  const h = m[1]!.toLowerCase().replace(/\.$/, '');
  return h.includes(':') && !net.isIPv6(h) ? undefined : h;
}
