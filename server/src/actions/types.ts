import type { Logger } from 'pino';
import type { RootLayout } from '../root/layout.js';
import type { BurrowConfig } from '../config/schema.js';
import type { Store } from '../store/index.js';
import type { SubscriptionsRepo } from '../store/subscriptions-repo.js';
import type { SharesRepo } from '../store/shares-repo.js';
import type { TrashRepo } from '../store/trash-repo.js';
import type { FolderSync, StorageBalancer } from '../nas-context.js';

/** A request after validation: the path is normalised and proved to be inside its area. */
export interface ValidRequest {
  id: string;
  device: string;
  action: string;
  /** Relative to files/ (or to devices/<device>/ for actions on the device's own links). */
  path: string;
  /** The same path, absolute, inside the action's area. */
  abs: string;
  args: Record<string, unknown>;
  confirm: boolean;
  source: string;
}

/** What an action may look at while it plans; it changes nothing itself. */
export interface ActionEnv {
  layout: RootLayout;
  config: BurrowConfig;
  store: Store;
  subscriptions: SubscriptionsRepo;
  shares: SharesRepo;
  trash: TrashRepo;
  log: Logger;
  balancer: StorageBalancer | undefined;
  folderSync: FolderSync | undefined;
  now(): Date;
}

export type { Plan } from '../journal/plan.js';
import type { Plan } from '../journal/plan.js';

export interface Action {
  readonly name: string;
  /** One line for help texts and the catalogue menu. */
  readonly summary: string;
  /** Where the request's path lives: the store, or the requesting device's own folder. */
  readonly pathIn: 'files' | 'device';
  /** get, delete and move act for a real device; the others may come from the NAS owner ('@nas'). */
  readonly needsDevice: boolean;
  /** false for revoke and revoke-share, whose source may be gone already. */
  readonly pathMustExist?: boolean;
  /** destroy and destroy-folder need confirm: true. */
  readonly needsConfirm: boolean;
  /** Internal actions (adoption, subscription links) are never accepted from outside. */
  readonly internal?: boolean;
  /** Refuse a request whose args are missing or wrong; returns a reason a person understands, or null. */
  checkArgs(args: Record<string, unknown>): string | null;
  /** Stage 1: checks and planning. Throws a BurrowError to refuse; changes nothing on disk. */
  start(req: ValidRequest, env: ActionEnv): Promise<Plan> | Plan;
  /** Stage 3 (optional): after the steps and commit, add to the result (e.g. a share's secrets). */
  cleanup?(req: ValidRequest, plan: Plan, env: ActionEnv): Record<string, unknown>;
}
