import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { qrcode } from '../../util/qrcode.js';
import { makeWebJoinLink, revokeWeb } from '../../devices/web-link.js';
import { addDevice } from '../../devices/add-device.js';
import { validateDeviceName } from '../../devices/device-name.js';
import { joinStringFor } from '../../nas-sync/join.js';
import { SecretsRepo } from '../../store/secrets-repo.js';
import { BurrowError, errors } from '../../errors.js';
import { computeStatus } from '../../services/status.js';
import { chartData, devicesView, revokedSharesView } from '../../services/admin-view.js';
import { barChartSvg } from '../../services/svg-chart.js';
import { SharesRepo } from '../../store/shares-repo.js';
import { NAS_REQUESTER } from '../../requests/validate.js';
import { dedupeJob } from '../../jobs/run-jobs.js';
import { formatBytes } from '../../util/format-bytes.js';
import type { RequestsService } from '../../requests/service.js';
import type { SchedulerService } from '../../jobs/scheduler-service.js';
import type { BalancerService } from '../../jobs/balancer-service.js';
import type { NasFolderSync } from '../../nas-sync/service.js';

/** Events of the NAS bus the admin page hears about (see nas-context.ts), plus the admin's own. */
const FORWARDED = ['request-updated', 'links-changed', 'worklist-changed', 'admin-changed', 'job-progress', 'sync-activity'] as const;
const NoQuery = Type.Object({}, { additionalProperties: false });
const DeviceParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const LimitMb = Type.Union([Type.Null(), Type.Number({ minimum: 0, maximum: 1e12 })]);
const JobParams = Type.Object({ job: Type.Union([Type.Literal('dedupe'), Type.Literal('balance')]) });

/** An SVG as an <img> data URL: the page's CSP allows data: images and nothing from outside. */
async function qrDataUrl(text: string): Promise<string> {
  const svg = await qrcode().toString(text, { type: 'svg', errorCorrectionLevel: 'L', margin: 4 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

/**
 * What the admin UI changes, and its live event stream. Every route here is behind the owner
 * check of security/index.ts (session + CSRF token for changes, or the API token).
 */
export default async function adminActionRoutes(app: FastifyInstance): Promise<void> {
  const streams = new Set<ServerResponse>();
  const running = new Map<string, { startedAt: number; percent: number }>();
  const emit = (name: string, data: unknown) => app.nas.events.emit(name, data);

  // Server-sent events: one line per bus event; the page refetches what changed.
  app.get('/api/admin/events', { schema: { querystring: NoQuery } }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data ?? {})}\n\n`);
    send('hello', { at: Date.now(), jobs: Object.fromEntries(running) });
    const handlers = FORWARDED.map((name) => [name, (data: unknown) => send(name, data)] as const);
    for (const [name, h] of handlers) app.nas.events.on(name, h);
    // A comment now and then keeps proxies from closing an idle stream, and ages "last contact".
    const keepAlive = setInterval(() => send('tick', { at: Date.now() }), 30_000);
    streams.add(res);
    req.raw.on('close', () => {
      clearInterval(keepAlive);
      for (const [name, h] of handlers) app.nas.events.off(name, h);
      streams.delete(res);
    });
  });
  // An open stream would keep the server from closing.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
  });

  // Online: its agent reported lately (devicesView), or its sync link is up right now; last
  // contact is the latest of its report and the availability log.
  app.get('/api/admin/devices', { schema: { querystring: NoQuery } }, async () => {
    const engine = (app.nas.services.get('folder-sync') as NasFolderSync | undefined)?.syncEngine ?? null;
    const linked = new Set((engine?.listPeers() ?? []).filter((p) => p.folderId.startsWith('device:')).map((p) => p.folderId.slice('device:'.length)));
    const seen = new Map(app.nas.store.availability.spans(undefined, Date.now() - 90 * 86_400_000).map((s) => [s.device, s.to]));
    return devicesView(app.nas.store).map((d) => {
      const last = Math.max(d.lastContact ?? 0, seen.get(d.name) ?? 0, linked.has(d.name) ? Date.now() : 0);
      return { ...d, online: d.online || linked.has(d.name), lastContact: last > 0 ? last : null, syncLinked: linked.has(d.name) };
    });
  });

  app.post<{ Body: { name: string; limitMb: number | null } }>(
    '/api/admin/devices',
    { schema: { body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), limitMb: LimitMb }, { additionalProperties: false }) } },
    async (req) => {
      const d = addDevice(app.nas, req.body.name, req.body.limitMb);
      emit('admin-changed', { device: d.name });
      return { name: d.name, quotaBytes: d.quota_bytes };
    },
  );

  // The join string carries the device's read-write secret: only the owner gets it, never cached.
  app.get<{ Params: { name: string } }>('/api/admin/devices/:name/join', { schema: { params: DeviceParams } }, async (req, reply) => {
    const name = validateDeviceName(req.params.name);
    const join = joinStringFor(app.nas, name);
    return reply.header('cache-control', 'no-store').send({ name, join, qr: await qrDataUrl(join) });
  });

  // A phone's one-time join link (the web app, issue 18), and signing its browsers out.
  app.post<{ Params: { name: string } }>('/api/admin/devices/:name/web-link', { schema: { params: DeviceParams } }, async (req, reply) => {
    const name = validateDeviceName(req.params.name);
    if (!app.nas.store.devices.get(name)) throw errors.unknownDevice(name);
    return reply.header('cache-control', 'no-store').send(await makeWebJoinLink(app.nas, name));
  });
  app.post<{ Params: { name: string } }>('/api/admin/devices/:name/web-revoke', { schema: { params: DeviceParams } }, async (req) => {
    const name = validateDeviceName(req.params.name);
    if (!app.nas.store.devices.get(name)) throw errors.unknownDevice(name);
    return { device: name, revoked: revokeWeb(app.nas, name) };
  });

  app.put<{ Params: { name: string }; Body: { limitMb: number | null } }>(
    '/api/admin/devices/:name/limit',
    { schema: { params: DeviceParams, body: Type.Object({ limitMb: LimitMb }, { additionalProperties: false }) } },
    async (req) => {
      const name = validateDeviceName(req.params.name);
      if (!app.nas.store.devices.get(name)) throw errors.unknownDevice(name);
      const bytes = req.body.limitMb === null ? null : Math.round(req.body.limitMb * 1024 * 1024);
      // devices.quota_bytes is always the owner's limit; an agent's report can only lower the
      // limit that applies (effective_quota_bytes), never change this one.
      app.nas.store.devices.setQuota(name, bytes);
      const quota = app.nas.store.devices.get(name)!.effective_quota_bytes;
      emit('admin-changed', { device: name });
      return { name, limitBytes: bytes, quotaBytes: quota };
    },
  );

  app.get('/api/admin/shares/revoked', { schema: { querystring: NoQuery } }, async () => revokedSharesView(app.nas.store));

  app.get<{ Params: { id: string } }>('/api/admin/shares/:id/qr', { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }) } }, async (req, reply) => {
    const sync = app.nas.services.get('folder-sync') as { secretsOf(kind: 'share', name: string): { readOnly: string } | undefined } | undefined;
    const secret = sync?.secretsOf('share', req.params.id)?.readOnly;
    if (!secret) return reply.code(404).send({ error: 'NO_SECRET', message: `Share ${JSON.stringify(req.params.id)} has no read-only secret (unknown share, or the sync engine is not running).` });
    return reply.header('cache-control', 'no-store').send({ id: req.params.id, qr: await qrDataUrl(secret) });
  });

  // Revoke as the NAS owner, through the same request processor as `burrow revoke`.
  app.post<{ Params: { id: string } }>('/api/admin/shares/:id/revoke', { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }) } }, async (req, reply) => {
    const share = new SharesRepo(app.nas.store.db).list().find((s) => s.id === req.params.id);
    if (!share) throw new BurrowError('UNKNOWN_SHARE', `There is no share ${JSON.stringify(req.params.id)}.`, 'Reload the page: the list of shares changed.');
    const s = app.nas.services.get('requests') as RequestsService | undefined;
    if (!s) throw new BurrowError('NOT_RUNNING', 'The request processor is not running on this NAS.', 'Restart the NAS with "burrow start".');
    const sub = s.submit({ id: `ui-revoke-${crypto.randomUUID()}`, device: NAS_REQUESTER, action: share.limit_mb !== null ? 'revoke-share' : 'revoke', path: share.source_path, args: { shareId: share.id }, confirm: true }, 'http');
    const st = await sub.done;
    emit('admin-changed', { share: share.id });
    return reply.code(st.state === 'done' ? 200 : 409).send(st);
  });

  app.get('/api/admin/jobs/schedule', { schema: { querystring: NoQuery } }, async () => {
    const sch = app.nas.services.get('scheduler') as SchedulerService | undefined;
    return { scheduled: sch ? sch.jobs().map((j) => ({ name: j.name, schedule: j.schedule, nextRun: j.nextRun?.getTime() ?? null })) : [], running: Object.fromEntries(running) };
  });

  // "Run now": answers at once; progress and the result arrive as job-progress events.
  app.post<{ Params: { job: 'dedupe' | 'balance' } }>('/api/admin/jobs/:job/run', { schema: { params: JobParams } }, async (req, reply) => {
    const job = req.params.job;
    if (running.has(job)) return reply.code(409).send({ error: 'JOB_RUNNING', message: `The ${job} job is running already.` });
    const ctx = app.nas;
    const state = { startedAt: Date.now(), percent: 0 };
    running.set(job, state);
    emit('job-progress', { job, state: 'running', percent: 0 });
    const work =
      job === 'dedupe'
        ? dedupeJob(ctx.store, ctx.layout, ctx.config, {
            refresh: (p) => ctx.indexer.refresh(p),
            onProgress: (p) => {
              // Hashing is most of the work; linking is the last fifth.
              const part = p.total > 0 ? p.done / p.total : 1;
              state.percent = Math.min(99, Math.round(p.phase === 'hash' ? part * 80 : 80 + part * 19));
              emit('job-progress', { job, state: 'running', phase: p.phase, done: p.done, total: p.total, percent: state.percent });
            },
          }).then((r) => `${r.groups} groups, ${r.filesLinked} files linked, ${formatBytes(r.bytesSaved)} saved`)
        : (async () => {
            const b = ctx.services.get('balancer') as BalancerService | undefined;
            if (!b) throw new BurrowError('NOT_RUNNING', 'The storage balancer is not running on this NAS.', 'Restart the NAS with "burrow start".');
            const r = await b.balance();
            return r.devices.map((d) => `${d.device}: ${d.ok ? `freed ${formatBytes(d.freedBytes)}` : 'failed'}`).join(', ') || 'no device to balance';
          })();
    work.then(
      (summary) => emit('job-progress', { job, state: 'done', percent: 100, summary }),
      (err: Error) => emit('job-progress', { job, state: 'failed', percent: state.percent, summary: err.message }),
    ).finally(() => running.delete(job));
    return reply.code(202).send({ job, state: 'running' });
  });

  // Every folder the sync engine serves (or has paused), its connected peers, progress, bytes,
  // last error and conflict copies; pausing and conflicts are in admin-sync.ts.
  app.get('/api/admin/sync', { schema: { querystring: NoQuery } }, async () => {
    const sync = app.nas.services.get('folder-sync') as NasFolderSync | undefined;
    const engine = sync?.syncEngine ?? null;
    if (!engine) return { running: false, error: sync?.error ?? 'the sync engine is off (sync.enabled)', folders: [] };
    const root = app.nas.layout.root;
    return {
      running: true,
      error: null,
      folders: engine.listFolders().map((f) => ({
        id: f.id,
        path: f.path.startsWith(root + '/') ? f.path.slice(root.length + 1) : f.path,
        mode: f.mode,
        paused: f.paused,
        progress: engine.progress(f.id),
        traffic: engine.traffic(f.id),
        error: sync?.folderError(f.id) ?? null,
        // The copy holds the version of the device that kept it aside (its own edit lost): name it.
        conflicts: (f.paused || f.level === 'enc' ? [] : engine.listConflicts(f.id)).map((c) => ({
          ...c,
          versionOf: c.copy.keptBy === engine.device.slice(0, 7).toUpperCase() ? 'this NAS' : f.id.startsWith('device:') ? f.id.slice('device:'.length) : `peer ${c.copy.keptBy}`,
        })),
        peers: engine.listPeers(f.id).map((p) => ({ device: p.device, address: p.address, level: p.level, bytesIn: p.bytesIn, bytesOut: p.bytesOut })),
      })),
    };
  });

  app.get('/api/admin/charts', { schema: { querystring: NoQuery } }, async () => chartData(app.nas.store, computeStatus(app.nas.store)));
  const charts = {
    storage: (d: ReturnType<typeof chartData>) => barChartSvg('Store size, by device and share', d.storage),
    'device-limits': (d: ReturnType<typeof chartData>) => barChartSvg('Device use against limit', d.deviceLimits),
    'dedupe-saved': (d: ReturnType<typeof chartData>) => barChartSvg('Space saved by dedupe, over time', d.dedupeSaved),
  };
  for (const [name, draw] of Object.entries(charts)) {
    app.get(`/api/admin/charts/${name}.svg`, { schema: { querystring: Type.Object({ v: Type.Optional(Type.String({ maxLength: 20 })) }, { additionalProperties: false }) } }, async (_req, reply) =>
      reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'no-store').send(draw(chartData(app.nas.store))),
    );
  }
}
