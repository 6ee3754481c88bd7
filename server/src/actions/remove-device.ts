import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, lstatOrUndefined, refuse } from './plan.js';
import { planUnlinkFromDevice } from './delete.js';
import { trashIdFor } from './remove-everywhere.js';
import { validateDeviceName } from '../devices/device-name.js';

/**
 * Remove a device (the NAS owner only): stop syncing its folder first (so the device is told
 * nothing, and keeps its own files), then remove its links into the store (the store keeps
 * every file), then move what is left of devices/<d>/ (files the store did not hold yet, its
 * worklist and reports) into the trash as one item, and forget the device in the database.
 * Its pending requests fail ("the device was removed"). Journaled like every action.
 */
/** requests/validate.ts's NAS_REQUESTER (not imported: validate imports the registry, which imports this). */
const NAS_OWNER = '@nas';

export const removeDeviceAction: Action = {
  name: 'remove-device',
  summary: 'remove a device: its links go, the store keeps every file, the rest of its folder goes to the trash',
  pathIn: 'files',
  needsDevice: false,
  pathMustExist: false,
  needsConfirm: true,
  checkArgs: (args) => (typeof args.device === 'string' && args.device !== '' ? null : 'remove-device needs args.device, the name of the device to remove.'),
  start(req: ValidRequest, env: ActionEnv) {
    if (req.device !== NAS_OWNER) throw refuse('OWNER_ONLY', 'Only the NAS owner can remove a device.', 'Use the admin UI or "burrow device remove <name>" on the NAS.');
    const device = validateDeviceName(String(req.args.device));
    if (!env.store.devices.get(device)) throw refuse('UNKNOWN_DEVICE', `There is no device named ${JSON.stringify(device)}.`, 'List devices with "burrow device list".');
    const b = new PlanBuilder(env.layout);
    const now = env.now();
    b.add({ op: 'sync-remove', kind: 'device', name: device });
    b.endStep();
    const devDir = env.layout.device(device);
    let removed = 0;
    let trashed: string | null = null;
    let keptInTrash: string[] = [];
    const trashId = `device-${device}-${trashIdFor(req, now)}`;
    if (lstatOrUndefined(devDir)?.isDirectory()) {
      const sum = planUnlinkFromDevice(b, env, device, '');
      removed = sum.removed;
      keptInTrash = sum.keptNotInStore;
      b.endStep();
      const itemDir = path.join(env.layout.trash, trashId);
      b.ensureDir(path.join(itemDir, 'devices'), env.layout.state);
      b.add({
        op: 'write',
        path: b.rel(path.join(itemDir, 'meta.json')),
        content: JSON.stringify({ id: trashId, originalPath: `devices/${device}`, kind: 'removed-device', requestId: req.id, by: req.device, trashedAt: now.toISOString(), files: keptInTrash.length }, null, 2) + '\n',
      });
      b.endStep();
      trashed = trashId;
      b.add({ op: 'rename', from: b.rel(devDir), to: b.rel(path.join(itemDir, 'devices', device)) });
      b.commit.push({ db: 'trash-add', id: trashId, originalPath: `devices/${device}`, kind: 'removed-device', bytes: 0, files: keptInTrash.length, requestId: req.id, at: now.getTime() });
    }
    b.commit.push({ db: 'device-remove', device, reason: `The device ${device} was removed by the NAS owner.`, at: now.getTime() });
    return b.build({ device, linksRemoved: removed, keptInTrash: keptInTrash.slice(0, 50), trashId: trashed });
  },
};
