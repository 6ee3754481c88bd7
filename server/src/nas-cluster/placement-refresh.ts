import path from 'node:path';
import type { OpenRoot } from '../root/open-root.js';
import { MembersRepo } from '../store/members-repo.js';
import { summarizeSpans } from '../services/availability.js';
import { PlacementRepo } from '../store/placement-repo.js';
import { Ledger } from './ledger.js';
import { AVAILABILITY_WINDOW_MS, computePlacement, type Placement } from './placement.js';
import { requiredZones } from './zone.js';

/** The NAS's sync engine state directory (nas-sync/service.ts opens its engine there). */
export const syncStateDir = (r: OpenRoot): string => path.join(r.layout.state, 'sync');

/**
 * Work out the placement now, from the members this NAS knows and what its sync engine last saved
 * of each one's holdings, and store it (PlacementRepo) unless a computation that started later was
 * stored meanwhile (`stored` says which). Undefined when this NAS is in no group or its engine
 * never opened the store folder.
 */
export async function refreshPlacement(r: OpenRoot, now = Date.now()): Promise<(Placement & { stored: boolean }) | undefined> {
  const members = new MembersRepo(r.store.db);
  const secret = members.secret('store');
  const self = members.self();
  if (!secret || !self) return undefined;
  const syncOf = new Ledger(r.layout.root).syncDevices();
  const from = now - AVAILABILITY_WINDOW_MS;
  const all = members.list();
  const others = all
    .filter((m) => !m.is_self)
    .map((m) => {
      const since = Math.max(from, Math.min(m.joined_at, now));
      const window = now - since;
      const availability = window > 0 ? summarizeSpans(members.availability(m.id, since), since, now).fraction : 1;
      return { id: m.id, name: m.name, zone: m.zone, syncDevice: syncOf.get(m.id), availability, knownForMs: window };
    });
  const required = requiredZones(r.config.cluster.replicasZones, all.map((m) => m.zone));
  const placement = await computePlacement(syncStateDir(r), secret, { self: { id: self.id, name: self.name, zone: self.zone }, others, required, minAvailability: r.config.cluster.minAvailabilityPercent / 100 }, now);
  if (!placement) return undefined;
  return { ...placement, stored: new PlacementRepo(r.store.db).replace(placement.summary, placement.folders) };
}
