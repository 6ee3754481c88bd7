/**
 * `burrow sync --secret <s> --dir <d> ...`: run the sync engine for one
 * folder until SIGINT/SIGTERM. Prints exactly one line containing "in sync"
 * the first time the folder is in sync with the peers it knows. This is how
 * a friend uses a share without a NAS, and how tests drive a bare peer.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { SyncEngine, parseSecret, secretLevel, type FolderMode } from '../../sync/index.js';
import { PUBLIC_DHT_ROUTERS, isPrivateNetwork } from '../../config/sync-network.js';
import { installStopSignals } from '../common.js';
import { REFUSED_NOTE } from '../../actions/adopt-share.js';


function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

interface SyncOpts {
  secret: string;
  dir: string;
  listen: string;
  host: string;
  peer: string[];
  bootstrap: string[];
  dht: boolean;
  dhtPort?: string;
  state?: string;
  mode?: string;
  lan?: string;
  json?: boolean;
  revert?: boolean;
}

export function register(program: Command): void {
  program
    .command('sync')
    .description('sync one folder with its peers until stopped')
    .requiredOption('--secret <secret>', 'folder secret (read-write A..., read-only B..., encrypted F...)')
    .requiredOption('--dir <dir>', 'the folder to sync')
    .option('--listen <port>', 'TCP port to listen on', '0')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--peer <host:port>', 'a known peer (repeatable)', collect, [])
    .option('--bootstrap <host:port>', 'DHT bootstrap node (repeatable)', collect, [])
    .option('--no-dht', 'do not use the DHT')
    .option('--dht-port <port>', 'UDP port for the DHT')
    .option('--lan <port>', 'UDP port for LAN beacons (off unless given)')
    .option('--state <dir>', 'state directory (default <dir>/.burrow-sync/state)')
    .option('--mode <mode>', 'send-receive | send-only | receive-only | encrypted-storage (default from the secret)')
    .option('--revert', 'receive-only: put back the published version of every file changed here (files added here are removed), then keep syncing')
    .action(async (opts: SyncOpts) => {
      let level;
      try {
        parseSecret(opts.secret);
        level = secretLevel(opts.secret);
      } catch (e) {
        process.stderr.write(`burrow sync: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const mode = (opts.mode ?? (level === 'rw' ? 'send-receive' : level === 'ro' ? 'receive-only' : 'encrypted-storage')) as FolderMode;
      const dir = path.resolve(opts.dir);
      const engine = new SyncEngine({
        stateDir: path.resolve(opts.state ?? path.join(dir, '.burrow-sync', 'state')),
        listen: { host: opts.host, port: Number(opts.listen) },
        ...(opts.dht && (opts.bootstrap.length || !isPrivateNetwork())
          ? { dht: { bootstrap: opts.bootstrap.length ? opts.bootstrap : PUBLIC_DHT_ROUTERS, ...(opts.dhtPort ? { port: Number(opts.dhtPort) } : {}), host: opts.host } }
          : {}),
        knownHosts: opts.peer,
        ...(opts.lan ? { lan: { port: Number(opts.lan), intervalMs: 2000 } } : {}),
        dialIntervalMs: 1000,
      });
      const signals = installStopSignals();
      let said = false;
      engine.on('folderSynced', () => {
        if (said) return;
        said = true;
        process.stdout.write(`in sync: ${dir} (${engine.listPeers().length} peer(s))\n`);
      });
      engine.on('error', (e) => process.stderr.write(`burrow sync: ${e.error.message}\n`));
      // A Burrow NAS that refused files past a shared folder's limit says so in this note.
      engine.on('fileChanged', (e) => {
        if (e.path === REFUSED_NOTE) process.stdout.write(`the NAS did not take some files (over the shared folder's limit): see ${path.join(dir, REFUSED_NOTE)}\n`);
      });
      await engine.open();
      await engine.addFolder({ id: 'cli', path: dir, secret: opts.secret, mode });
      process.stderr.write(`burrow sync: listening on ${opts.host}:${engine.port} (${mode})\n`);
      if (mode === 'receive-only') {
        // Local changes in a receive-only folder are never sent: say so, once per change of the list.
        let lastReport = '';
        const report = async (): Promise<void> => {
          const changes = await engine.localChanges('cli').catch(() => []);
          const text = changes.map((c) => `  ${c.change} ${c.path}`).join('\n');
          if (text === lastReport) return;
          lastReport = text;
          if (changes.length) process.stderr.write(`burrow sync: ${changes.length} local change(s), not sent (burrow sync --revert undoes them):\n${text}\n`);
        };
        if (opts.revert) {
          const done = await engine.revert('cli');
          process.stdout.write(`reverted ${done.length} local change(s)${done.map((c) => `\n  ${c.change} ${c.path}`).join('')}\n`);
        } else await report();
        const t = setInterval(() => void report(), 30_000);
        void signals.stopped.then(() => clearInterval(t));
      } else if (opts.revert) {
        process.stderr.write(`burrow sync: --revert is for receive-only folders; this one is ${mode}\n`);
      }
      await signals.stopped;
      await engine.close();
      signals.dispose();
    });
}
