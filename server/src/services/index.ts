import type { NasService } from '../nas-context.js';
import { CatalogueService } from '../catalogue/service.js';
import { NasFolderSync } from '../nas-sync/service.js';
import { BalancerService } from '../jobs/balancer-service.js';
import { SchedulerService } from '../jobs/scheduler-service.js';
import { RequestsService } from '../requests/service.js';
import { MoveWaiter } from '../nas-sync/move-waiter.js';
import { TorrentService } from '../torrent/service.js';
import { ActivitySampler } from '../nas-sync/activity-sampler.js';
import { NasClusterService } from '../nas-cluster/service.js';

/**
 * The NAS's long-lived services after the indexer, opened in this order by `startNas`
 * (catalogue publisher, request processor, torrent seeding, sync, jobs register here).
 */
export function createServices(): NasService[] {
  return [new NasFolderSync(), new NasClusterService(), new RequestsService(), new MoveWaiter(), new TorrentService(), new CatalogueService(), new BalancerService(), new SchedulerService(), new ActivitySampler()];
}
