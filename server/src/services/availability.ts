import type { Store } from '../store/index.js';
import type { AvailabilitySpan } from '../store/activity-repo.js';
import { MembersRepo } from '../store/members-repo.js';

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
  return devices.map((device) => ({ device, ...summarizeSpans(byDevice.get(device) ?? [], from, now) }));
}

/** Spans clipped to [from, now], their share of the window, and the last time seen. */
export function summarizeSpans(all: Array<{ from: number; to: number }>, from: number, now: number): Omit<DeviceAvailability, 'device'> {
  const spans = all.map((s) => ({ from: Math.max(from, s.from), to: Math.min(now, s.to) })).filter((s) => s.to >= s.from);
  const reachableMs = spans.reduce((a, s) => a + (s.to - s.from), 0);
  return { from, to: now, fraction: reachableMs / (now - from), reachableMs, lastSeen: all.at(-1)?.to ?? null, spans };
}

export interface MemberAvailability extends Omit<DeviceAvailability, 'device'> {
  member: string;
  name: string;
  zone: string;
}

/**
 * When each other member of this NAS's group was reachable from this one over the last `days`
 * days (a live sync link; nas-cluster/service.ts extends the stretch while it lives). This NAS
 * itself is not listed: it is up whenever it can answer. `member` matches an id or a name.
 */
export function memberAvailabilitySummary(store: Store, opts: { member?: string; days?: number; now?: number } = {}): MemberAvailability[] {
  const now = opts.now ?? Date.now();
  const from = now - (opts.days ?? 7) * DAY;
  const repo = new MembersRepo(store.db);
  return repo
    .list()
    .filter((m) => !m.is_self && (opts.member === undefined || m.id === opts.member || m.name === opts.member))
    .map((m) => ({ member: m.id, name: m.name, zone: m.zone, ...summarizeSpans(repo.availability(m.id, from), from, now) }));
}
