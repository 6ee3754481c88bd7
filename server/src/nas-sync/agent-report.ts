import fs from 'node:fs';
import type { NasContext } from '../nas-context.js';
import { effectiveQuota as capOf } from '../store/devices-repo.js';
import type { SecretsRepo } from '../store/secrets-repo.js';

/**
 * The device agent's report, files/.burrow/agent-report.json on the device, which syncs to
 * devices/<d>/.burrow/agent-report.json on the NAS:
 *   { "v": 1, "device": "laptop", "limitBytes": 5368709120 | null, "freeBytes": 123, "usedBytes": 456,
 *     "agentVersion": "0.1.0", "at": 1700000000000 }
 * The NAS keeps it beside the admin's `--quota`, which it never changes: the limit that applies
 * is the smallest of the admin's limit, the agent's storage limit, and the most the device held plus
 * its free space in the day up to its last report (DevicesRepo's effective_quota_bytes), so a
 * report can lower it, never raise it, and a moment's full disk does not lower it.
 */
import { AGENT_REPORT_REL, type AgentReport } from '../devices/exchange-formats.js';
export { AGENT_REPORT_REL, type AgentReport };

const MAX_REPORT_BYTES = 4096;

export function parseAgentReport(text: string): AgentReport | null {
  if (text.length > MAX_REPORT_BYTES) return null;
  let r: Partial<AgentReport>;
  try {
    r = JSON.parse(text) as Partial<AgentReport>;
  } catch {
    return null;
  }
  const nonNeg = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (r.v !== 1 || typeof r.device !== 'string') return null;
  if (!(r.limitBytes === null || nonNeg(r.limitBytes)) || !nonNeg(r.freeBytes) || !nonNeg(r.usedBytes)) return null;
  return { v: 1, device: r.device, limitBytes: r.limitBytes ?? null, freeBytes: r.freeBytes, usedBytes: r.usedBytes, agentVersion: String(r.agentVersion ?? ''), at: Number(r.at ?? 0) };
}

/** The limit that would apply to a device with this admin limit if this were its only report. */
export function effectiveQuota(adminQuota: number | null, r: AgentReport): number | null {
  return capOf(adminQuota, r.limitBytes, r.usedBytes + r.freeBytes);
}

export function applyAgentReport(ctx: NasContext, repo: SecretsRepo, device: string, abs: string): void {
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch {
    return;
  }
  const r = parseAgentReport(text);
  if (!r || r.device !== device) {
    ctx.log.warn({ device }, 'sync: ignored a malformed agent report');
    return;
  }
  const dev = ctx.store.devices.get(device);
  if (!dev) return;
  // admin_quota_bytes only mirrors the admin's limit at report time (for older readers); devices.quota_bytes stays the admin's.
  repo.saveReport({ device, limit_bytes: r.limitBytes, free_bytes: r.freeBytes, used_bytes: r.usedBytes, admin_quota_bytes: dev.quota_bytes, agent_version: r.agentVersion });
}
