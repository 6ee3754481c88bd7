import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { BurrowError } from '../errors.js';
import type { OpenRoot } from '../root/open-root.js';
import { MembersRepo, type MemberRow } from '../store/members-repo.js';
import { SecretsRepo } from '../store/secrets-repo.js';
import { newFolderSecrets } from '../sync/index.js';
import { loadNasKey, nasAddresses } from '../devices/join-string.js';
import { ensureFolderSecrets } from '../nas-sync/service.js';
import { decodeInvite, encodeInvite } from './invite.js';
import { Ledger } from './ledger.js';
import { zoneOf } from './zone.js';

function needSyncAddress(r: OpenRoot): void {
  if (r.config.sync.port === 0 && r.config.sync.publicAddresses.length === 0)
    throw new BurrowError('NO_SYNC_ADDRESS', 'This NAS syncs on a random port (sync.port: 0), so other members could not find it.', `Set sync.port (or sync.publicAddresses) in ${r.layout.config}.`);
}

/** This NAS as a member: made on first use (invite or join), its facts refreshed from the config each time. */
export function ensureSelf(r: OpenRoot): MemberRow {
  needSyncAddress(r);
  const members = new MembersRepo(r.store.db);
  const addresses = nasAddresses(r.config.sync, r.config.sync.port);
  const zone = zoneOf(r.config.cluster.zone, addresses);
  const cur = members.self();
  members.upsert({ id: cur?.id ?? crypto.randomBytes(8).toString('hex'), name: cur?.name ?? os.hostname(), addresses, zone, joinedAt: cur?.joined_at ?? Date.now() }, true);
  const self = members.self()!;
  const ledger = new Ledger(r.layout.root);
  const prev = ledger.members().find((m) => m.id === self.id);
  ledger.writeMember({ ...prev, id: self.id, name: self.name, addresses: self.addresses, zone: self.zone, joinedAt: self.joined_at });
  return self;
}

/** `burrow nas invite`: the group's secrets (made on the first invite) and this member, signed. */
export function inviteString(r: OpenRoot): string {
  const members = new MembersRepo(r.store.db);
  r.store.tx(() => {
    if (!members.secret('store')) members.setSecret('store', newFolderSecrets().readWrite);
    if (!members.secret('ledger')) members.setSecret('ledger', newFolderSecrets().readWrite);
  });
  const self = ensureSelf(r);
  const catalogue = ensureFolderSecrets(new SecretsRepo(r.store.db), 'catalogue', 'catalogue');
  return encodeInvite(
    {
      storeSecret: members.secret('store')!,
      ledgerSecret: members.secret('ledger')!,
      catalogueSecret: catalogue.readWrite,
      member: { id: self.id, name: self.name, addresses: self.addresses, zone: self.zone, joinedAt: self.joined_at },
    },
    loadNasKey(r.layout.keys),
  );
}

/**
 * `burrow nas join`: a fresh NAS (no devices, no files, in no group) takes the group's secrets and
 * catalogue identity and records the inviting member. The rest (other members, devices, the store)
 * arrives over sync once `burrow start` runs.
 */
export function joinGroup(r: OpenRoot, joinString: string): { self: MemberRow; inviter: string } {
  const inv = decodeInvite(joinString);
  const members = new MembersRepo(r.store.db);
  if (members.secret('store')) throw new BurrowError('ALREADY_MEMBER', 'This NAS is already a member of a group.', 'A NAS belongs to one group; use a freshly initialised root (burrow init --root <new dir>).');
  if (r.store.devices.list().length > 0) throw new BurrowError('NOT_FRESH', 'This NAS has devices of its own, so it cannot join another group.', 'Join with a freshly initialised root (burrow init --root <new dir>).');
  const inStore = fs.readdirSync(r.layout.files).filter((n) => !n.startsWith('.burrow'));
  if (inStore.length > 0) throw new BurrowError('NOT_FRESH', `files/ is not empty (${inStore.length} entries, e.g. ${JSON.stringify(inStore[0])}), so joining could mix two stores.`, 'Join with a freshly initialised root and copy your files into the group afterwards.');
  if (inv.member.id === members.self()?.id) throw new BurrowError('BAD_NAS_JOIN_STRING', 'This NAS join string was made by this very NAS.', 'Run "burrow nas invite" on the NAS you want to join, and "burrow nas join" here.');
  r.store.tx(() => {
    members.setSecret('store', inv.storeSecret);
    members.setSecret('ledger', inv.ledgerSecret);
    new SecretsRepo(r.store.db).replace('catalogue', 'catalogue', inv.catalogueSecret);
    members.upsert(inv.member);
  });
  return { self: ensureSelf(r), inviter: inv.member.name };
}
