import crypto from 'node:crypto';
import { BurrowError } from '../errors.js';
import type { MemberFacts } from '../store/members-repo.js';

/**
 * The NAS join string: what a fresh NAS needs to become a member of a group, in one line.
 * `burrownas1:<base64url(JSON)>.<base64url(Ed25519 signature)>`, signed with the inviting NAS's
 * key exactly as device join strings are (devices/join-string.ts), so a cut or edited string is
 * refused. It carries the group's secrets: hand it over privately.
 */
export const NAS_JOIN_PREFIX = 'burrownas1:';

export interface NasInvite {
  v: 1;
  kind: 'nas';
  /** read-write secret of files/ among members */
  storeSecret: string;
  /** read-write secret of the ledger .burrow/cluster/ among members */
  ledgerSecret: string;
  /** read-write secret of catalogue/ (every member publishes it; devices hold its read-only secret) */
  catalogueSecret: string;
  /** the inviting member */
  member: MemberFacts;
  nasKey: string;
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function inviteError(why: string): BurrowError {
  return new BurrowError('BAD_NAS_JOIN_STRING', `This NAS join string is not valid: ${why}.`, 'Copy the whole line again from "burrow nas invite" on a member NAS; it starts with "burrownas1:".');
}

export function encodeInvite(p: Omit<NasInvite, 'v' | 'kind' | 'nasKey'>, key: { privateKey: crypto.KeyObject; publicRaw: Buffer }): string {
  const full: NasInvite = { v: 1, kind: 'nas', ...p, nasKey: key.publicRaw.toString('base64url') };
  const body = Buffer.from(JSON.stringify(full), 'utf8');
  return `${NAS_JOIN_PREFIX}${body.toString('base64url')}.${crypto.sign(null, body, key.privateKey).toString('base64url')}`;
}

export function decodeInvite(input: string): NasInvite {
  const s = input.trim().replace(/\s+/g, '');
  if (s.startsWith('burrow1:')) throw inviteError('it is a device join string (burrow1:); on a device run "burrow agent --join" with it');
  if (!s.startsWith(NAS_JOIN_PREFIX)) throw inviteError(`it must start with "${NAS_JOIN_PREFIX}"`);
  const [bodyPart, sigPart, extra] = s.slice(NAS_JOIN_PREFIX.length).split('.');
  if (!bodyPart || !sigPart || extra !== undefined) throw inviteError('it is cut short or has extra parts');
  if (!/^[A-Za-z0-9_-]+$/.test(bodyPart) || !/^[A-Za-z0-9_-]+$/.test(sigPart)) throw inviteError('it contains characters that do not belong in it');
  const body = Buffer.from(bodyPart, 'base64url');
  const sig = Buffer.from(sigPart, 'base64url');
  if (sig.length !== 64) throw inviteError('its signature is cut short');
  let p: NasInvite;
  try {
    p = JSON.parse(body.toString('utf8')) as NasInvite;
  } catch {
    throw inviteError('its content is damaged');
  }
  if (typeof p !== 'object' || p === null || p.v !== 1 || p.kind !== 'nas') throw inviteError('it was made by a different Burrow version');
  const pub = typeof p.nasKey === 'string' ? Buffer.from(p.nasKey, 'base64url') : Buffer.alloc(0);
  if (pub.length !== 32) throw inviteError('its NAS key is damaged');
  const keyObj = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, pub]), format: 'der', type: 'spki' });
  if (!crypto.verify(null, body, keyObj, sig)) throw inviteError('its signature does not match (the string was changed after the NAS made it)');
  for (const k of ['storeSecret', 'ledgerSecret', 'catalogueSecret'] as const) if (typeof p[k] !== 'string' || !p[k].startsWith('A')) throw inviteError(`its ${k} is missing or not a read-write secret`);
  const m = p.member;
  if (!m || typeof m.id !== 'string' || !/^[0-9a-f]{16}$/.test(m.id)) throw inviteError('its member id is damaged');
  if (!Array.isArray(m.addresses) || m.addresses.length === 0 || m.addresses.some((a) => typeof a !== 'string' || !/^.+:\d{1,5}$/.test(a))) throw inviteError("the inviting NAS's addresses are damaged");
  if (typeof m.zone !== 'string' || typeof m.name !== 'string' || typeof m.joinedAt !== 'number') throw inviteError("the inviting NAS's description is damaged");
  return p;
}
