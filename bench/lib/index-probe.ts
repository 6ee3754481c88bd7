/**
 * Child process for the RSS lines: the index alone (reconcile, watch, hash every file) on an
 * existing root, without HTTP or the other NAS services, so its share of the NAS's peak RSS
 * is known. Prints `done <VmHWM bytes> <files> <ms>` and exits.
 * Usage: node index-probe.js <root> <hashWorkers> <watch:0|1>
 */
import fs from 'node:fs';
import { openRoot } from '../../server/src/root/open-root.js';
import { createLogger } from '../../server/src/log.js';
import { Indexer } from '../../server/src/index/indexer.js';

const [root, workers, watch] = process.argv.slice(2) as [string, string, string];
const t0 = performance.now();
const r = openRoot(root);
const ix = new Indexer(r.store, r.layout, { ...r.config.index, hashWorkers: Number(workers), watch: watch === '1', hash: true }, createLogger('warn'));
await ix.open();
await ix.hashIdle();
const ms = performance.now() - t0;
const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
process.stdout.write(`done ${hwm} ${ix.lastScan?.files ?? 0} ${ms.toFixed(0)}\n`);
await ix.close();
r.close();
