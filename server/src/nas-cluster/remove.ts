import { BurrowError } from '../errors.js';
import type { OpenRoot } from '../root/open-root.js';
import { MembersRepo, type MemberRow } from '../store/members-repo.js';
import { readHoldings } from '../sync/index.js';
import { Ledger } from './ledger.js';
import { syncStateDir } from './placement-refresh.js';

/** How many of the versions only the member holds are named in the refusal. */
const NAMED = 10;

export interface RemovalCheck {
  member: MemberRow;
  /** versions of files the member holds that no other member (this one included) holds */
  onlyThere: number;
  /** a few of their paths (null: a file this member never had, so its name is not known here) */
  examples: Array<string | null>;
}

/** The examples of a check, for people: a path, or what is known of a file whose name this NAS never saw. */
export function describeExamples(examples: Array<string | null>): string {
  return examples.map((p) => (p === null ? '(a file this NAS never had)' : JSON.stringify(p))).join(', ');
}

function findMember(r: OpenRoot, idOrName: string): { members: MembersRepo; member: MemberRow } {
  const members = new MembersRepo(r.store.db);
  if (!members.secret('store')) throw new BurrowError('NOT_IN_GROUP', 'This NAS is in no group, so it has no members to remove.', 'burrow nas list shows the group; run nas remove on a member.');
  const all = members.list();
  const hits = all.filter((m) => m.id === idOrName || m.name === idOrName);
  if (hits.length === 0) throw new BurrowError('UNKNOWN_MEMBER', `No member ${JSON.stringify(idOrName)} (members: ${all.map((m) => `${m.name} ${m.id}`).join(', ')}).`, 'Name a member by the id or name burrow nas list shows.');
  if (hits.length > 1) throw new BurrowError('AMBIGUOUS_MEMBER', `Several members are named ${JSON.stringify(idOrName)}: ${hits.map((m) => m.id).join(', ')}.`, 'Name the member by its id.');
  const member = hits[0]!;
  if (member.is_self) throw new BurrowError('CANNOT_REMOVE_SELF', 'This is the NAS you are on; a member is removed by another member.', `Run burrow nas remove ${member.id} on another member of the group.`);
  return { members, member };
}

/**
 * What removing a member would lose: the versions its sync index last said it holds that no
 * remaining member's index holds (this member's own index included). A version this member's
 * index supersedes is not counted (an old copy on a member that lagged). Read from the sync
 * engine's saved view, a few seconds behind a running engine.
 */
export function checkRemoval(r: OpenRoot, idOrName: string): RemovalCheck {
  const { members, member } = findMember(r, idOrName);
  const syncOf = new Ledger(r.layout.root).syncDevices();
  const device = syncOf.get(member.id);
  if (!device) return { member, onlyThere: 0, examples: [] }; // it never described itself, so it never synced
  const holdings = readHoldings(syncStateDir(r), members.secret('store')!);
  if (!holdings)
    throw new BurrowError('HOLDINGS_UNKNOWN', 'This NAS has never synced the store with the group, so it cannot tell what only that member holds.', 'Run burrow start here until burrow nas list shows the members, then try again (or --force, which removes it unchecked).');
  try {
    const others = members
      .list()
      .filter((m) => !m.is_self && m.id !== member.id)
      .map((m) => syncOf.get(m.id))
      .filter((d): d is string => !!d);
    let onlyThere = 0;
    const examples: Array<string | null> = [];
    for (const v of holdings.onlyAt(device, others)) {
      onlyThere++;
      if (examples.length < NAMED) examples.push(v.path);
    }
    return { member, onlyThere, examples };
  } finally {
    holdings.close();
  }
}

/**
 * `burrow nas remove`: refuse while the member holds versions no other member has (unless
 * forced), then record the removal in the ledger. Every member that reads it stops syncing with
 * the removed one; the removed member itself stops running requests and syncing with the group
 * (nas-cluster/service.ts). Nothing on any disk is deleted.
 */
export function removeMember(r: OpenRoot, idOrName: string, opts: { force?: boolean; now?: number } = {}): RemovalCheck & { forced: boolean } {
  let check: RemovalCheck;
  try {
    check = checkRemoval(r, idOrName);
  } catch (err) {
    if (!opts.force || !(err instanceof BurrowError) || err.code !== 'HOLDINGS_UNKNOWN') throw err;
    check = { member: findMember(r, idOrName).member, onlyThere: 0, examples: [] };
  }
  if (check.onlyThere > 0 && !opts.force) {
    throw new BurrowError(
      'ONLY_COPY',
      `Member ${check.member.name} (${check.member.id}) holds ${check.onlyThere} file version(s) no other member holds, e.g. ${describeExamples(check.examples)}.`,
      `Keep it running until the others have them (burrow nas list: every member holds as many files; a member with a full disk takes nothing), then try again. --force removes it anyway: those versions then stay only on its disk.`,
    );
  }
  const self = new MembersRepo(r.store.db).self()!;
  new Ledger(r.layout.root).writeRemoved(check.member.id, self.id, opts.now ?? Date.now());
  new MembersRepo(r.store.db).remove(check.member.id);
  return { ...check, forced: !!opts.force };
}
