import cron, { type ScheduledTask } from 'node-cron';
import { BurrowError } from '../errors.js';
import type { NasContext, NasService } from '../nas-context.js';
import { dedupeJob } from './run-jobs.js';
import type { BalancerService } from './balancer-service.js';

export interface ScheduledJob {
  name: 'dedupe' | 'balance';
  schedule: string;
  nextRun: Date | null;
}

const badSchedule = (key: string, expr: string) =>
  new BurrowError('BAD_SCHEDULE', `The cron schedule jobs.${key} = "${expr}" is not valid.`, 'Use five cron fields, e.g. "30 2 * * *" for 02:30 every night.');

/**
 * Runs the nightly jobs from node-cron inside `burrow start` (service name 'scheduler').
 * noOverlap keeps a slow run from starting twice in this process; the SQLite job lock keeps it
 * from running beside a `burrow dedupe` or `burrow balance` started in a shell.
 */
export class SchedulerService implements NasService {
  readonly name = 'scheduler';
  private readonly tasks = new Map<ScheduledJob['name'], ScheduledTask>();
  private ctx: NasContext | null = null;

  open(ctx: NasContext): void {
    this.ctx = ctx;
    const { dedupeSchedule, balanceSchedule } = ctx.config.jobs;
    if (!cron.validate(dedupeSchedule)) throw badSchedule('dedupeSchedule', dedupeSchedule);
    if (!cron.validate(balanceSchedule)) throw badSchedule('balanceSchedule', balanceSchedule);
    this.tasks.set('dedupe', cron.schedule(dedupeSchedule, () => this.runDedupe(), { name: 'burrow-dedupe', noOverlap: true }));
    this.tasks.set('balance', cron.schedule(balanceSchedule, () => this.runBalance(), { name: 'burrow-balance', noOverlap: true }));
  }

  jobs(): ScheduledJob[] {
    return [...this.tasks].map(([name, t]) => ({ name, schedule: t.getPattern(), nextRun: t.getNextRun() }));
  }

  async runDedupe(): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) return;
    try {
      const r = await dedupeJob(ctx.store, ctx.layout, ctx.config, { refresh: (p) => ctx.indexer.refresh(p) });
      ctx.log.info({ groups: r.groups, filesLinked: r.filesLinked, bytesSaved: r.bytesSaved, bytesSkipped: r.bytesSkipped }, 'dedupe done');
    } catch (err) {
      ctx.log.error({ err }, 'dedupe failed');
    }
  }

  async runBalance(): Promise<void> {
    const ctx = this.ctx;
    const balancer = ctx?.services.get('balancer') as BalancerService | undefined;
    if (!ctx || !balancer) return;
    try {
      const r = await balancer.balance();
      ctx.log.info({ devices: r.devices.map((d) => ({ device: d.device, ok: d.ok, freed: d.freedBytes })) }, 'balance done');
    } catch (err) {
      ctx.log.error({ err }, 'balance failed');
    }
  }

  async close(): Promise<void> {
    for (const t of this.tasks.values()) await t.destroy();
    this.tasks.clear();
    this.ctx = null;
  }
}
