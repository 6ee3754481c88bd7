import type { AgentReport } from '../server/src/devices/exchange-formats.js';
import fs from 'node:fs';
import path from 'node:path';
import type { AgentConfig, AgentPaths } from './config.js';

/**
 * The agent's storage report to the NAS: files/.burrow/agent-report.json, which syncs to the
 * NAS's devices/<d>/.burrow/agent-report.json (format in server/src/nas-sync/agent-report.ts).
 * The NAS turns it into the device's quota for the storage balancer. It is rewritten only when
 * something changed enough to matter, so it does not churn the sync.
 */
export type StorageReport = AgentReport;

const REWRITE_AFTER_MS = 60 * 60 * 1000;
const FREE_SLACK_BYTES = 64 * 1024 * 1024;

const USED_EVERY_MS = 60_000;

export class ReportWriter {
  last: StorageReport | null = null;
  private used = 0;
  private usedAt = 0;

  constructor(
    private readonly paths: AgentPaths,
    private readonly config: AgentConfig,
    private readonly version: string,
  ) {
    try {
      this.last = JSON.parse(fs.readFileSync(paths.report, 'utf8')) as StorageReport;
    } catch {
      this.last = null;
    }
  }

  /** Measure; write the report if it changed. Returns true when it wrote. */
  async refresh(): Promise<boolean> {
    const st = await fs.promises.statfs(this.paths.root);
    const freeBytes = st.bavail * st.bsize;
    // Walking files/ costs one stat per file: do it at most once a minute.
    if (this.usedAt === 0 || Date.now() - this.usedAt > USED_EVERY_MS) {
      this.used = await usedBytesOf(this.paths.files);
      this.usedAt = Date.now();
    }
    const usedBytes = this.used;
    const limitBytes = this.config.storageLimitMb === null ? null : Math.round(this.config.storageLimitMb * 1024 * 1024);
    const prev = this.last;
    const same =
      prev &&
      prev.device === this.config.device &&
      prev.limitBytes === limitBytes &&
      prev.usedBytes === usedBytes &&
      Math.abs(prev.freeBytes - freeBytes) < FREE_SLACK_BYTES &&
      Date.now() - prev.at < REWRITE_AFTER_MS;
    if (same) return false;
    const r: StorageReport = { v: 1, device: this.config.device, limitBytes, freeBytes, usedBytes, agentVersion: this.version, at: Date.now() };
    await fs.promises.mkdir(this.paths.meta, { recursive: true });
    const tmp = path.join(this.paths.tmp, 'agent-report.json');
    await fs.promises.writeFile(tmp, JSON.stringify(r) + '\n');
    await fs.promises.rename(tmp, this.paths.report);
    this.last = r;
    return true;
  }
}

/** Bytes of regular files under files/, leaving out .burrow/ and the engine's own folder. */
async function usedBytesOf(dir: string): Promise<number> {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let list: fs.Dirent[];
    try {
      list = await fs.promises.readdir(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of list) {
      if (d === dir && (e.name === '.burrow' || e.name === '.burrow-sync')) continue;
      const abs = path.join(d, e.name);
      if (e.isDirectory()) stack.push(abs);
      else if (e.isFile()) total += (await fs.promises.lstat(abs).catch(() => ({ size: 0 }))).size;
    }
  }
  return total;
}
