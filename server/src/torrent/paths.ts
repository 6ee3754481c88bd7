import path from 'node:path';

/** Where a torrent's .torrent file lives: <root>/.burrow/torrents/<id>.torrent. */
export function torrentFilePath(torrentsDir: string, id: string): string {
  return path.join(torrentsDir, `${id}.torrent`);
}
