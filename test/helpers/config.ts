import fs from 'node:fs';
import path from 'node:path';

/**
 * A fresh root's config rewritten for a test NAS: its sync engine on 127.0.0.1 at a free port,
 * no DHT and no LAN beacons (nothing leaves the machine), then the further line edits a test
 * needs, in order (each replaces the first match left).
 */
export function loopbackConfig(root: string, more: ReadonlyArray<readonly [RegExp, string]> = []): void {
  const file = path.join(root, '.burrow', 'config.yaml');
  let text = fs
    .readFileSync(file, 'utf8')
    .replace(/^( {2}host:) 0\.0\.0\.0$/m, '$1 127.0.0.1')
    .replace(/^( {2}port:) 7421$/m, '$1 0')
    .replace(/^( {2}dht:) true$/m, '$1 false')
    .replace(/^( {2}lan:) true$/m, '$1 false');
  for (const [pattern, to] of more) text = text.replace(pattern, to);
  fs.writeFileSync(file, text);
}
