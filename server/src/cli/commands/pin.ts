import type { Command } from 'commander';
import { openRoot } from '../../root/open-root.js';
import { normaliseRelPath } from '../../fsutil/safe-path.js';
import { validateDeviceName } from '../../devices/device-name.js';
import { errors } from '../../errors.js';
import { action, report, rootFrom, withRoot } from '../common.js';

/** `burrow pin <path> --device <d>`, `burrow unpin ...`, `burrow pins`: folders the balancer never evicts. */
export function register(program: Command): void {
  withRoot(program.command('pin <path>').description('keep a folder (or file) on a device: the balancer never removes it'))
    .requiredOption('--device <name>', 'the device')
    .option('--json', 'print one JSON document')
    .action(
      action((rel: string, opts: { root?: string; device: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const device = validateDeviceName(opts.device);
          if (!r.store.devices.get(device)) throw errors.unknownDevice(device);
          const p = normaliseRelPath(rel);
          const added = r.store.pins.pin(device, p);
          report(opts.json, { device, path: p, pinned: true, added }, () => `${p === '' ? 'everything' : p} is pinned on ${device}${added ? '' : ' (it already was)'}`);
        } finally {
          r.close();
        }
      }),
    );
  withRoot(program.command('unpin <path>').description('let the balancer remove a pinned folder from a device again'))
    .requiredOption('--device <name>', 'the device')
    .option('--json', 'print one JSON document')
    .action(
      action((rel: string, opts: { root?: string; device: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const device = validateDeviceName(opts.device);
          const p = normaliseRelPath(rel);
          const removed = r.store.pins.unpin(device, p);
          report(opts.json, { device, path: p, pinned: false, removed }, () => (removed ? `${p === '' ? 'everything' : p} is no longer pinned on ${device}` : `${p} was not pinned on ${device}`));
        } finally {
          r.close();
        }
      }),
    );
  withRoot(program.command('pins').description('list pinned folders'))
    .option('--device <name>', 'only this device')
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { root?: string; device?: string; json?: boolean }) => {
        const r = openRoot(rootFrom(opts));
        try {
          const list = r.store.pins.list(opts.device === undefined ? undefined : validateDeviceName(opts.device));
          report(opts.json, list.map((p) => ({ device: p.device, path: p.path, createdAt: p.created_at })), () =>
            list.length === 0 ? 'nothing pinned' : list.map((p) => `${p.device}: ${p.path === '' ? '(everything)' : p.path}`).join('\n'),
          );
        } finally {
          r.close();
        }
      }),
    );
}
