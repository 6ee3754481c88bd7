import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { action, report, rootFrom, withRoot } from '../common.js';
import { inviteString, joinGroup } from '../../nas-cluster/group.js';
import { groupView } from '../../nas-cluster/view.js';
import { formatBytes } from '../../util/format-bytes.js';

export function register(program: Command): void {
  const nas = program.command('nas').description('several NAS in one group: invite, join, list the members');
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
  withRoot(nas.command('list').description('the members: zone, when last reachable, how much of the store each holds'))
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts), { readonly: true });
        try {
          const v = groupView(r);
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
                  ...v.warnings.map((w) => `WARNING: ${w}`),
                ].join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
