import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { inviteString, joinGroup } from '../../nas-cluster/group.js';
import { groupView } from '../../nas-cluster/view.js';
import { refreshPlacement } from '../../nas-cluster/placement-refresh.js';
import { checkRemoval, describeExamples, removeMember } from '../../nas-cluster/remove.js';
import { formatBytes } from '../../util/format-bytes.js';

export function register(program: Command): void {
  const nas = program.command('nas').description('several NAS in one group: invite, join, list and remove the members');
  withRoot(nas.command('invite').description('print a NAS join string for a fresh NAS to join this one (keep it private: it carries the group secrets)'))
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const join = inviteString(r);
          report(opts.json, { join }, () => `NAS join string (keep it private: it carries the group's secrets):\n${join}\n\non the new NAS (freshly initialised): burrow nas join '${join}' --root <its root>, then burrow start`);
        } finally {
          r.close();
        }
      }),
    );
  withRoot(nas.command('join <string>').description('make this freshly initialised NAS a member of the group that printed the string'))
    .option('--json', 'print one JSON document')
    .action(
      action((join: string, opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const { self, inviter } = joinGroup(r, join);
          report(opts.json, { member: self.id, zone: self.zone, joined: inviter }, () => `this NAS is now member ${self.id} (zone ${self.zone}) of ${inviter}'s group; run burrow start: files/, devices and the catalogue arrive over sync`);
        } finally {
          r.close();
        }
      }),
    );
  withRoot(nas.command('list').description('the members: zone, when last reachable, how much of the store each holds, and which zones hold each folder'))
    .option('--json', 'print one JSON document')
    .action(
      action(async (opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          await refreshPlacement(r);
          const v = groupView(r);
          const p = v.placement;
          const folderLines = p
            ? [
                '',
                `every file should be in ${p.required} zone(s); ${p.files - p.under} of ${p.files} files are${p.under > 0 ? `, ${p.under} are not` : ''}`,
                ...p.folders
                  .filter((f) => f.path === '' || !f.path.includes('/') || f.under > 0)
                  .slice(0, 40)
                  .map((f) => `  ${(f.path === '' ? 'files/' : `${f.path}/`).padEnd(32)} ${String(f.files).padStart(8)} files  zones ${f.zones.join(', ') || 'none'}${f.under > 0 ? `  (${f.under} in too few zones)` : ''}`),
              ]
            : [];
          const ago = (t: number | null) => (t === null ? 'never' : `${Math.max(0, Math.round((Date.now() - t) / 1000))} s ago`);
          report(opts.json, v, () =>
            v.members.length === 0
              ? 'this NAS is in no group: burrow nas invite (here) and burrow nas join (on a fresh NAS)'
              : [
                  ...v.members.map(
                    (m) =>
                      `${m.self ? '*' : ' '} ${m.id}  ${m.name.padEnd(16)} zone ${m.zone.padEnd(14)} ${m.addresses.join(',').padEnd(24)} reachable ${ago(m.lastReachableAt).padEnd(12)} holds ${m.heldFiles ?? '?'} files, ${m.heldBytes === null ? '?' : formatBytes(m.heldBytes)}${m.diskFull ? '  DISK FULL: takes no new files' : ''}`,
                  ),
                  '',
                  `zones: ${v.zones.join(', ')}; every file should be in ${v.requiredZones} zone(s)`,
                  ...folderLines,
                  ...v.warnings.map((w) => `WARNING: ${w}`),
                ].join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
  withRoot(nas.command('remove <member>').description('take a member (id or name) out of the group; refused while it holds files no other member has'))
    .option('--force', 'remove it even if it holds file versions no other member has (they stay only on its disk)')
    .option('--dry-run', 'only say what only that member holds; remove nothing')
    .option('--json', 'print one JSON document')
    .action(
      action((member: string, opts: { root?: string; json?: boolean; force?: boolean; dryRun?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          if (opts.dryRun) {
            const c = checkRemoval(r, member);
            report(opts.json, { member: c.member.id, name: c.member.name, onlyThere: c.onlyThere, examples: c.examples }, () =>
              c.onlyThere === 0
                ? `member ${c.member.name} (${c.member.id}) holds nothing the other members lack: it can be removed`
                : `member ${c.member.name} (${c.member.id}) holds ${c.onlyThere} file version(s) no other member holds, e.g. ${describeExamples(c.examples)}`,
            );
            return;
          }
          const done = removeMember(r, member, { force: !!opts.force });
          report(opts.json, { removed: done.member.id, name: done.member.name, forced: done.forced, onlyThere: done.onlyThere }, () =>
            [
              `member ${done.member.name} (${done.member.id}) is removed from the group: every member stops syncing with it once it reads the ledger, and it stops running requests.`,
              done.onlyThere > 0 ? `${done.onlyThere} file version(s) stay only on its disk (--force).` : 'Every file it held is held by another member.',
              'Its files stay on its disk. It still knows the group\'s secrets: if you do not trust it, do not let it on your network (new secrets are not there yet).',
            ].join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
