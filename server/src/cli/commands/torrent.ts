import path from 'node:path';
import type { Command } from 'commander';
import { action, report, rootFrom, withRoot } from '../common.js';
import { formatBytes } from '../../util/format-bytes.js';
import { runRequest, withLocalProcessor, httpJson } from '../../requests/run-local.js';
import { requestBody, type RequestCliOptions } from './request.js';
import { BurrowError } from '../../errors.js';
import { TorrentsRepo, type TorrentRow } from '../../store/torrents-repo.js';

type Listed = Omit<TorrentRow, 'metainfo' | 'token' | 'files'>;

function line(t: Listed): string {
  const when = new Date(t.created_at).toISOString().replace('T', ' ').slice(0, 19);
  return `${t.id}  ${t.kind === 'once' ? '1-time' : 'public'}  ${t.state}${t.stop_reason ? ` (${t.stop_reason})` : ''}  files/${t.source_path}  ${formatBytes(t.total_bytes)}  made ${when}  downloads ${t.downloads}  served ${formatBytes(t.bytes_served)}${
    t.kind === 'once' ? `  recipient has ${Math.floor((100 * (t.once_covered ?? 0)) / t.total_bytes)}%` : ''
  }`;
}

export function register(program: Command): void {
  const cmd = program.command('torrent').description('make a .torrent of a file or folder that the NAS serves (web seed, tracker and peer wire on torrent.port); list or stop them');
  withRoot(cmd.command('make <path>', { isDefault: true }).description('make the torrent of files/<path> (the default: burrow torrent <path>)'))
    .option('--once', 'a private 1-time torrent: the NAS serves it for one complete download, then never again')
    .option('--device <name>', 'record it as made by this device')
    .option('--json', 'print one JSON document: {id, torrent, magnet, ...}')
    .action(
      action(async (rel: string, opts: RequestCliOptions & { once?: boolean }) => {
        const root = rootFrom(opts);
        const st = await runRequest(root, requestBody(opts.once ? 'torrent-once' : 'torrent', rel, opts));
        if (st.state !== 'done') throw new BurrowError('TORRENT_FAILED', `torrent ${rel}: ${st.reason ?? st.state}`, 'Nothing was made.');
        const r = st.result as Record<string, unknown>;
        const out = {
          id: r.torrentId,
          kind: r.kind,
          torrent: path.join(root, String(r.torrentPath)),
          magnet: r.magnet,
          torrentUrl: r.torrentUrl,
          webSeed: r.webSeed,
          infoHash: r.infoHash,
          bytes: r.bytes,
          files: r.files,
          pieces: r.pieces,
          pieceLength: r.pieceLength,
          request: st.id,
        };
        report(opts.json, out, () =>
          [
            `torrent ${out.id} (${out.kind === 'once' ? '1-time: one complete download, then the NAS stops serving it' : 'public'}) of files/${rel}: ${formatBytes(Number(out.bytes))} in ${out.pieces} pieces of ${formatBytes(Number(out.pieceLength))}`,
            `  .torrent: ${out.torrent}`,
            `  download: ${out.torrentUrl}`,
            `  magnet:   ${out.magnet}`,
            `  served by "burrow start" on torrent.port while it is active; stop it with "burrow torrent stop ${out.id}"`,
          ].join('\n'),
        );
      }),
    );
  withRoot(cmd.command('list').description('the torrents the NAS made: what, when, downloads, bytes served, state'))
    .option('--json', 'print one JSON document')
    .action(
      action(async (opts: { root?: string; json?: boolean }) => {
        const out = await withLocalProcessor(rootFrom(opts), async (_p, r) => new TorrentsRepo(r.store.db).list().map(({ token: _t, files: _f, ...rest }) => rest));
        const rows = out.local ? out.value : ((await httpJson(out.nas, `/api/torrents`, 'GET')).json as { torrents: Listed[] }).torrents;
        report(opts.json, rows, () => (rows.length === 0 ? 'no torrents yet' : rows.map(line).join('\n')));
      }),
    );
  withRoot(cmd.command('stop <id>').description('stop serving a torrent (its .torrent stops working for anyone who has it)'))
    .option('--json', 'print one JSON document')
    .action(
      action(async (id: string, opts: { root?: string; json?: boolean }) => {
        const out = await withLocalProcessor(rootFrom(opts), async (_p, r) => {
          const repo = new TorrentsRepo(r.store.db);
          const t = repo.get(id);
          if (!t) throw new BurrowError('UNKNOWN_TORRENT', `There is no torrent ${JSON.stringify(id)}.`, 'List them with "burrow torrent list".');
          return { id, stopped: repo.end(id, 'stopped', 'stopped by the owner') };
        });
        const res = out.local ? out.value : ((await httpJson(out.nas, `/api/torrents/${encodeURIComponent(id)}/stop`, 'POST', {})).json as { id: string; stopped: boolean });
        report(opts.json, res, () => (res.stopped ? `torrent ${id} stopped: the NAS no longer serves it` : `torrent ${id} was not active; nothing to stop`));
      }),
    );
}
