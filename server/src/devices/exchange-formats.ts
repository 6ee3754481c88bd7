/**
 * The files a device agent and the NAS exchange through the device's synced folder
 * (`files/.burrow/` on the device = `devices/<d>/.burrow/` on the NAS). Both sides import these
 * types, so the two ends of the contract cannot drift apart.
 */

/** One line of the append-only worklist (`.burrow/worklist.jsonl`), written only by the device. */
export interface WorkItem {
  id: string;
  device: string;
  action: string;
  path: string;
  args: Record<string, unknown>;
  confirm: boolean;
}

/** `.burrow/agent-report.json`: the device's storage limit and free space, for the balancer. */
export interface AgentReport {
  v: 1;
  device: string;
  limitBytes: number | null;
  freeBytes: number;
  usedBytes: number;
  agentVersion: string;
  at: number;
}

export const AGENT_REPORT_REL = '.burrow/agent-report.json';

/**
 * `.burrow/results/<request id>.json`, written by the NAS into one device's folder: a request
 * result meant for that device only (a share's read-only secret), never put in the catalogue
 * that every device reads: `{ "v": 1, "id": "<request id>", "action", "path", "result": {...} }`.
 */
export const DEVICE_RESULTS_REL = '.burrow/results';
