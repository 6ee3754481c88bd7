import crypto from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { validateDeviceName } from '../../devices/device-name.js';
import { errors, BurrowError } from '../../errors.js';
import { availabilitySummary, memberAvailabilitySummary, AVAILABILITY_KEEP_DAYS } from '../../services/availability.js';
import { groupView } from '../../nas-cluster/view.js';
import { activityChartSvg, availabilityStripSvg } from '../../services/activity-chart.js';
import { conflictDiscarder } from '../../nas-sync/conflict-discard.js';
import type { NasFolderSync } from '../../nas-sync/service.js';
import type { RequestsService } from '../../requests/service.js';

const FolderBody = Type.Object({ folder: Type.String({ minLength: 1, maxLength: 300 }) }, { additionalProperties: false });
const KeepBody = Type.Object(
  { folder: Type.String({ minLength: 1, maxLength: 300 }), copy: Type.String({ minLength: 1, maxLength: 4096 }), keep: Type.Union([Type.Literal('copy'), Type.Literal('original')]) },
  { additionalProperties: false },
);
const DeviceParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const DaysQuery = Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: AVAILABILITY_KEEP_DAYS })), v: Type.Optional(Type.String({ maxLength: 20 })) }, { additionalProperties: false });
const VQuery = Type.Object({ v: Type.Optional(Type.String({ maxLength: 20 })) }, { additionalProperties: false });
const DAY = 86_400_000;

/**
 * Issue 14's admin actions on sync and devices: pause/resume a folder, conflicts and keeping one
 * side, sync activity per minute, device availability, and removing a device. Behind the owner
 * check of security/index.ts like every route.
 */
export default async function adminSyncRoutes(app: FastifyInstance): Promise<void> {
  const engineOf = () => {
    const sync = app.nas.services.get('folder-sync') as NasFolderSync | undefined;
    const engine = sync?.syncEngine ?? null;
    if (!engine) throw new BurrowError('SYNC_OFF', `The sync engine is not running: ${sync?.error ?? 'sync is off'}.`, 'Check sync.* in the NAS config and the NAS log.');
    return engine;
  };
  const knownFolder = (id: string) => {
    const engine = engineOf();
    if (!engine.listFolders().some((f) => f.id === id)) throw new BurrowError('UNKNOWN_FOLDER', `The sync engine serves no folder ${JSON.stringify(id)}.`, 'Reload the page: the list of folders changed.');
    return engine;
  };
  const changed = (data: unknown) => app.nas.events.emit('admin-changed', data);

  app.post<{ Body: { folder: string } }>('/api/admin/sync/pause', { schema: { body: FolderBody } }, async (req) => {
    await knownFolder(req.body.folder).pauseFolder(req.body.folder);
    changed({ folder: req.body.folder });
    return { folder: req.body.folder, paused: true };
  });
  app.post<{ Body: { folder: string } }>('/api/admin/sync/resume', { schema: { body: FolderBody } }, async (req) => {
    await knownFolder(req.body.folder).resumeFolder(req.body.folder);
    changed({ folder: req.body.folder });
    return { folder: req.body.folder, paused: false };
  });

  app.post<{ Body: { folder: string; copy: string; keep: 'copy' | 'original' } }>('/api/admin/sync/conflicts/keep', { schema: { body: KeepBody } }, async (req) => {
    const { folder, copy, keep } = req.body;
    const engine = knownFolder(folder);
    if (engine.isPaused(folder)) throw new BurrowError('PAUSED', `${folder} is paused.`, 'Resume it first: keeping a version is sent to its peers at once.');
    await engine.keepConflict(folder, copy, keep, conflictDiscarder(app.nas, folder));
    // The index sees the kept version now, so the NAS adopts it into the store as a new version.
    const root = engine.listFolders().find((f) => f.id === folder)!.path;
    try {
      app.nas.indexer.refresh([path.join(root, copy), path.join(root, copy.replace(/\.sync-conflict-\d{8}-\d{6}-[0-9A-Z]+(?:-\d+)?(?=\.[^./]*$|$)/, ''))]);
    } catch (err) {
      app.log.warn({ err: (err as Error).message }, 'index refresh after a conflict');
    }
    changed({ folder });
    return { folder, copy, kept: keep };
  });

  app.get<{ Querystring: { v?: string } }>('/api/admin/charts/sync-activity.svg', { schema: { querystring: VQuery } }, async (_req, reply) => {
    const now = Date.now();
    return reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'no-store').send(activityChartSvg(app.nas.store.syncActivity.perMinute(now - DAY), now));
  });
  app.get('/api/admin/sync/activity', { schema: { querystring: VQuery } }, async () => {
    const now = Date.now();
    return { from: now - DAY, to: now, minutes: app.nas.store.syncActivity.perMinute(now - DAY) };
  });

  app.get<{ Querystring: { days?: number } }>('/api/admin/availability', { schema: { querystring: DaysQuery } }, async (req) => availabilitySummary(app.nas.store, { days: req.query.days ?? 7 }));
  // Several NAS (issue 15): the members as `burrow nas list` shows them, with the zones that hold
  // the whole store, the zone warnings, and each other member's availability over 7 days.
  app.get('/api/admin/group', { schema: { querystring: VQuery } }, async () => {
    const view = groupView(app.nas);
    const availability = new Map(memberAvailabilitySummary(app.nas.store, { days: 7 }).map((a) => [a.member, a.fraction]));
    return { ...view, members: view.members.map((m) => ({ ...m, availability7d: m.self ? null : (availability.get(m.id) ?? 0) })) };
  });
  app.get<{ Params: { name: string }; Querystring: { days?: number } }>('/api/admin/charts/availability/:name', { schema: { params: DeviceParams, querystring: DaysQuery } }, async (req, reply) => {
    const name = validateDeviceName(req.params.name.replace(/\.svg$/, ''));
    if (!app.nas.store.devices.get(name)) throw errors.unknownDevice(name);
    const [a] = availabilitySummary(app.nas.store, { device: name, days: req.query.days ?? 7 });
    return reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'no-store').send(availabilityStripSvg(a!));
  });

  // Remove a device through the request processor (journaled, as `burrow device remove`).
  app.delete<{ Params: { name: string } }>('/api/admin/devices/:name', { schema: { params: DeviceParams } }, async (req, reply) => {
    const name = validateDeviceName(req.params.name);
    if (!app.nas.store.devices.get(name)) throw errors.unknownDevice(name);
    const s = app.nas.services.get('requests') as RequestsService | undefined;
    if (!s) throw new BurrowError('NOT_RUNNING', 'The request processor is not running on this NAS.', 'Restart the NAS with "burrow start".');
    const st = await s.submit({ id: `ui-rmdev-${crypto.randomUUID()}`, device: '@nas', action: 'remove-device', path: '', args: { device: name }, confirm: true }, 'http').done;
    changed({ device: name });
    return reply.code(st.state === 'done' ? 200 : 409).send(st);
  });
}
