import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { repoPath } from '../../util/repo-path.js';
import { formatBytes } from '../../util/format-bytes.js';
import { computeStatus, sharedFolderUse } from '../../services/status.js';
import { SharesRepo } from '../../store/shares-repo.js';
import type { FolderSync } from '../../nas-context.js';

/** The admin UI (web/) and the read-only admin API it renders. */
export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  const webDir = repoPath('web');
  await app.register(fastifyStatic, { root: webDir, prefix: '/admin/', decorateReply: false, index: false });
  const indexHtml = fs.readFileSync(repoPath('web', 'index.html'));
  // Never framed (frame-ancestors 'none', X-Frame-Options: DENY): helmet sends both on every page.
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(indexHtml));
  app.get('/api/devices', async () => {
    const status = computeStatus(app.nas.store);
    return status.devices;
  });
  // Shares with the secret a friend gets. The read-write secret is never sent over HTTP: a leaked
  // full-access secret cannot be taken back (`burrow secrets --read-write` prints it locally).
  app.get('/api/admin/shares', async () => {
    const sync = app.nas.services.get('folder-sync') as FolderSync | undefined;
    const use = new Map(sharedFolderUse(app.nas.store).map((u) => [u.id, u]));
    return new SharesRepo(app.nas.store.db)
      .list({ active: true })
      .map((s) => ({
        id: s.id,
        path: s.source_path,
        kind: s.kind,
        limitMb: s.limit_mb,
        createdAt: s.created_at,
        usedBytes: use.get(s.id)?.usedBytes ?? null,
        limitBytes: use.get(s.id)?.limitBytes ?? null,
        refusedFiles: use.get(s.id)?.refusedFiles ?? 0,
        readOnlySecret: sync?.secretsOf('share', s.id)?.readOnly ?? null,
      }));
  });
  app.get('/api/jobs', async () => {
    const dedupe = app.nas.store.dedupe.history(20).map((r) => ({
      job: r.dry_run ? 'dedupe (dry run)' : 'dedupe',
      startedAt: r.started_at,
      summary: r.state === 'done' ? `${r.groups} groups, ${r.files_linked} files linked, ${formatBytes(r.bytes_saved)} saved` : `${r.state}${r.error ? `: ${r.error}` : ''}`,
    }));
    const balance = app.nas.store.balanceHistory.history(undefined, 20).map((r) => ({
      job: `balance ${r.device}${r.dry_run ? ' (dry run)' : ''}`,
      startedAt: r.at,
      summary: r.ok ? `freed ${formatBytes(r.freed)} (${JSON.parse(r.evicted || '[]').length} files)` : `failed: ${r.reason ?? 'unknown'}`,
    }));
    return [...dedupe, ...balance].sort((a, b) => b.startedAt - a.startedAt).slice(0, 30);
  });
}
