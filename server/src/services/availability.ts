import type { Store } from '../store/index.js';
import type { AvailabilitySpan } from '../store/activity-repo.js';

export const AVAILABILITY_KEEP_DAYS = 90;
const DAY = 86_400_000;

export interface DeviceAvailability {
  device: string;
  /** The window summarised, ms since epoch. */
  from: number;
  to: number;
  /** Share of the window the device was reachable, 0..1. */
  fraction: number;
  reachableMs: number;
  lastSeen: number | null;
  /** Reachable stretches, clipped to the window, oldest first. */
  spans: Array<{ from: number; to: number }>;
}

/**
 * When each registered device was reachable over the last `days` days (its sync link was up or
 * its agent reported; the NAS samples that each minute, see nas-sync/activity-sampler.ts).
 */
export function availabilitySummary(store: Store, opts: { device?: string; days?: number; now?: number } = {}): DeviceAvailability[] {
  const now = opts.now ?? Date.now();
  const days = opts.days ?? 7;
  const from = now - days * DAY;
  const devices = opts.device !== undefined ? [opts.device] : store.devices.list().map((d) => d.name);
  const byDevice = new Map<string, AvailabilitySpan[]>();
  for (const s of store.availability.spans(opts.device, from)) byDevice.set(s.device, [...(byDevice.get(s.device) ?? []), s]);
  return devices.map((device) => {
    const spans = (byDevice.get(device) ?? []).map((s) => ({ from: Math.max(from, s.from), to: Math.min(now, s.to) })).filter((s) => s.to >= s.from);
    const reachableMs = spans.reduce((a, s) => a + (s.to - s.from), 0);
    const last = byDevice.get(device)?.at(-1)?.to ?? null;
    return { device, from, to: now, fraction: reachableMs / (now - from), reachableMs, lastSeen: last, spans };
  });
}
