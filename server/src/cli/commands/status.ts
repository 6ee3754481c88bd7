import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { computeStatus } from '../../services/status.js';
import { readTls } from '../../http/tls.js';
import { readHttpRuntime } from '../../http/listen.js';
import { processAlive } from '../../util/process-alive.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';
import { webCredentials } from '../../devices/web-join.js';

export function register(program: Command): void {
  withRoot(program.command('status').description('what the index holds: files, bytes, hash progress, devices'))
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts), { readonly: true });
        try {
          // The HTTPS certificate's fingerprint, so a device or browser can check it is this NAS.
          const tls = readTls(r.layout);
          const found = readHttpRuntime(r.layout);
          const rt = found && processAlive(found.pid) ? found : undefined; // a NAS killed -9 leaves its file behind
          const http = { tls: tls !== undefined, fingerprint: tls?.fingerprint ?? null, running: rt ? `${rt.tls ? 'https' : 'http'}://${rt.host.includes(':') ? `[${rt.host}]` : rt.host}:${rt.port}` : null };
          const publicUrl = r.config.http.publicUrl || null;
          let browsers: Array<{ device: string; kind: string }> = [];
          try {
            browsers = webCredentials(r.store.db).listLive(Date.now()).filter((c) => c.kind === 'credential');
          } catch {
            /* a root whose database predates migration 015 (status opens it read-only) */
          }
          const webApp = {
            publicUrl,
            // Phones need an HTTPS origin their browser trusts (service worker, storage): a proxy or a VPN name.
            ready: publicUrl !== null && publicUrl.startsWith('https://'),
            signedIn: [...new Set(browsers.map((c) => c.device))],
          };
          const s = { ...computeStatus(r.store, r.config), http, webApp };
          report(opts.json, s, () =>
            [
              `${s.files} files in ${s.folders} folders, ${formatBytes(s.bytes)}` + (s.errors ? `, ${s.errors} unreadable` : ''),
              `hashed ${s.hash.hashedFiles}/${s.hash.totalFiles} files (${s.hash.percent}% of bytes)`,
              ...s.devices.map((d) => `device ${d.name}: ${d.files} files, ${formatBytes(d.bytes)}` + (d.quotaBytes ? ` of ${formatBytes(d.quotaBytes)}` : '')),
              ...s.sharedFolders.map(
                (f) => `shared folder ${f.id} (files/${f.path}): friends added ${formatBytes(f.usedBytes)} of ${f.limitBytes === null ? 'no limit' : formatBytes(f.limitBytes)}` + (f.refusedFiles ? `, ${f.refusedFiles} file(s) refused` : ''),
              ),
              ...(http.running ? [`web UI and API: ${http.running}`] : []),
              ...(tls ? [`TLS certificate SHA-256 fingerprint: ${tls.fingerprint}`] : []),
              webApp.ready
                ? `phones (web app): ${webApp.publicUrl}` + (webApp.signedIn.length ? `; signed in: ${webApp.signedIn.join(', ')}` : '')
                : 'phones (web app): no trusted HTTPS address yet: set http.publicUrl to a reverse proxy (e.g. Caddy with a real domain) or a VPN HTTPS name; see README "Add your phone or laptop". Owner access on this machine stays plain HTTP on loopback.',
              s.torrents && !s.torrents.enabled
                ? 'torrents: turned off (torrent.enabled: false); the listener never opens'
                : s.torrents && s.torrents.active > 0
                ? `torrents: ${s.torrents.active} active of ${s.torrents.total}; listener (web seed, tracker, peer wire) on ${s.torrents.host}:${s.torrents.port} (TCP) while the NAS runs, reached at ${s.torrents.publicUrl}`
                : `torrents: none active; listener (web seed, tracker, peer wire on ${s.torrents?.host}:${s.torrents?.port}, TCP) off until the first torrent`,
            ].join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
