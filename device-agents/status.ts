import fs from 'node:fs';
import type { RequestState } from './requests.js';
import type { StorageReport } from './report.js';
import { agentPaths } from './config.js';

/** What `burrow agent status` shows; the running agent rewrites <root>/.burrow-agent/status.json every 2 s. */
export interface AgentStatus {
  running: boolean;
  pid: number;
  device: string;
  root: string;
  url: string;
  startedAt: number;
  updatedAt: number;
  nas: string[];
  folders: Array<{ id: string; path: string; mode: string; inSync: boolean; bytesDone: number; bytesLeft: number; filesLeft: number; rate: number }>;
  peers: Array<{ folder: string; device: string; address: string; bytesIn: number; bytesOut: number }>;
  bytesSynced: number;
  bytesLeft: number;
  pendingRequests: RequestState[];
  storage: StorageReport | null;
  lastError: { message: string; at: number } | null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The last status the agent wrote, with `running` corrected when its process is gone. */
export function readAgentStatus(root: string): AgentStatus | null {
  const p = agentPaths(root);
  let s: AgentStatus;
  try {
    s = JSON.parse(fs.readFileSync(p.status, 'utf8')) as AgentStatus;
  } catch {
    return null;
  }
  if (s.running && (!alive(s.pid) || Date.now() - s.updatedAt > 30_000)) s.running = false;
  return s;
}
