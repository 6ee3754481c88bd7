import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import cron from 'node-cron';
import { pino } from 'pino';
import { Indexer } from '../../server/src/index/indexer.js';
import { SchedulerService } from '../../server/src/jobs/scheduler-service.js';
import { BalancerService } from '../../server/src/jobs/balancer-service.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import type { NasContext } from '../../server/src/nas-context.js';
import { startNas } from '../../server/src/nas.js';
import { waitFor } from '../helpers/tmp.js';
import { bytes, inode, jobsRoot, link, put, rescan, type JobsRoot } from './fixture.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function context(jobs: Partial<NasContext['config']['jobs']> = {}): Promise<{ j: JobsRoot; ctx: NasContext; balancer: BalancerService; scheduler: SchedulerService }> {
  const j = jobsRoot();
  cleanups.push(() => j.cleanup());
  const log = pino({ level: 'silent' });
  const config = { ...j.r.config, jobs: { ...j.r.config.jobs, ...jobs } };
  const indexer = new Indexer(j.r.store, j.r.layout, { watch: false, debounceMs: 0, hashWorkers: 1, hashQueue: 64, reconcileMinutes: 0, hash: false }, log);
  await indexer.open();
  cleanups.push(() => indexer.close());
  const ctx: NasContext = { ...j.r, config, log, indexer, events: new EventEmitter(), services: new Map() };
  const balancer = new BalancerService(20);
  const scheduler = new SchedulerService();
  for (const s of [balancer, scheduler]) {
    await s.open(ctx);
    ctx.services.set(s.name, s);
    cleanups.push(() => s.close());
  }
  return { j, ctx, balancer, scheduler };
}

describe('jobs inside the NAS', () => {
  it('burrow start registers the balancer and both cron jobs with the configured schedules', async () => {
    const j = jobsRoot();
    cleanups.push(() => j.cleanup());
    j.r.close();
    const yaml = fs.readFileSync(j.r.layout.config, 'utf8');
    fs.writeFileSync(j.r.layout.config, yaml.replace(/dedupeSchedule:.*$/m, 'dedupeSchedule: "15 4 * * *"').replace(/balanceSchedule:.*$/m, 'balanceSchedule: "45 4 * * 0"'));
    const nas = await startNas(j.dir, { port: 0, host: '127.0.0.1', watch: false, hash: false });
    cleanups.push(() => nas.stop());
    expect(nas.ctx.services.get('balancer')).toBeInstanceOf(BalancerService);
    const scheduler = nas.ctx.services.get('scheduler') as SchedulerService;
    expect(scheduler.jobs().map((t) => [t.name, t.schedule])).toEqual([
      ['dedupe', '15 4 * * *'],
      ['balance', '45 4 * * 0'],
    ]);
    expect(scheduler.jobs()[0]!.nextRun!.getMinutes()).toBe(15);
    expect([...cron.getTasks().values()].map((t) => t.name)).toEqual(expect.arrayContaining(['burrow-dedupe', 'burrow-balance']));
  });

  it('refuses a bad schedule with a clear error', async () => {
    await expect(context({ dedupeSchedule: 'every night' })).rejects.toMatchObject({ code: 'BAD_SCHEDULE' });
  });

  it('the scheduled dedupe links files/ duplicates and the indexer sees it', async () => {
    const { j, ctx, scheduler } = await context();
    const c = bytes('sched', 150_000);
    put(j.r.layout.files, 'a.bin', c);
    put(j.r.layout.files, 'b.bin', c);
    ctx.indexer.reconcile();
    const seen: string[] = [];
    ctx.indexer.on('changed', (e: { changes: Array<{ path: string }> }) => seen.push(...e.changes.map((x) => x.path)));
    await scheduler.runDedupe();
    expect(inode(path.join(j.r.layout.files, 'a.bin'))).toBe(inode(path.join(j.r.layout.files, 'b.bin')));
    expect(seen).toContain('b.bin');
    expect(j.r.store.dedupe.history(1)[0]).toMatchObject({ state: 'done', files_linked: 1 });
  });

  it('records use from links appearing, makes room for a get, and re-balances after links change', async () => {
    const { j, ctx, balancer } = await context();
    addDevice(j.r, 'phone', null);
    const dev = j.r.layout.device('phone');
    const mk = (rel: string, kb: number) => {
      const abs = put(j.r.layout.files, rel, Buffer.alloc(kb * 1000, 1));
      link(abs, path.join(dev, rel));
      ctx.indexer.refresh([abs, path.join(dev, rel)]);
    };
    mk('old.bin', 100);
    mk('new.bin', 100);
    expect(j.r.store.usage.get('phone', 'old.bin')?.got_at).toBeGreaterThan(0);
    // An older use than new.bin. touch() keeps the latest time per kind, so start the row afresh:
    // both links can appear in the same millisecond, and then the path would decide the order.
    j.r.store.usage.forget('phone', 'old.bin');
    j.r.store.usage.touch('phone', 'old.bin', 1, 'got');
    j.r.store.devices.setQuota('phone', 150_000);
    const events: unknown[] = [];
    ctx.events.on('links-changed', (e) => events.push(e));
    const room = await balancer.makeRoom('phone', 40_000, ['incoming.bin']);
    expect(room).toMatchObject({ ok: true, freedBytes: 100_000 });
    expect(fs.existsSync(path.join(dev, 'old.bin'))).toBe(false);
    expect(events).toEqual([{ device: 'phone', by: 'balancer' }]);
    expect(j.r.store.usage.get('phone', 'old.bin')).toBeUndefined();
    // Another part of the NAS links a file (a get): the balancer brings the device back under its limit.
    mk('got-later.bin', 100);
    ctx.events.emit('links-changed', { device: 'phone' });
    await waitFor(() => j.r.store.usage.usedBytes('phone') <= 150_000, 5000);
    expect(fs.existsSync(path.join(dev, 'got-later.bin'))).toBe(true); // most recently got stays
    expect(fs.existsSync(path.join(dev, 'new.bin'))).toBe(false);
    rescan(j);
  });
});
