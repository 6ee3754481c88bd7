import { prng } from '../../server/src/util/prng.js';
import type { Device, Who } from './household.js';

/**
 * What the driver does, as data: every step of a run is one Op, appended as a JSON line to
 * `<roots>/ops.jsonl`, so a failure can be replayed on a fresh household and shrunk (shrink.ts).
 * An op carries everything it needs (paths, request id, sizes and content seeds), never a draw
 * from the run's PRNG stream, so a shortened list writes the same bytes as the full one did.
 */
export type RequestAction = 'get' | 'delete' | 'destroy' | 'move' | 'share' | 'revoke' | 'share-folder' | 'revoke-share' | 'mkdir' | 'destroy-folder' | 'torrent' | 'torrent-once';
export const REQUEST_ACTIONS: readonly string[] = ['get', 'delete', 'destroy', 'move', 'share', 'revoke', 'share-folder', 'revoke-share', 'mkdir', 'destroy-folder', 'torrent', 'torrent-once'];
export type FaultWho = Who | 'disk' | 'cut';

/** Where in the run the op happened: phase, step and ms since the phase started. */
interface At {
  phase: number;
  step: number;
  at: number;
}
export type RequestOp = { kind: RequestAction; device: Device; path: string; args: Record<string, unknown>; id: string; folder?: boolean };
export type OpBody =
  | RequestOp
  | { kind: 'replay'; device: Device; id: string; action: string; path: string; args: Record<string, unknown> }
  | { kind: 'local-new' | 'local-edit'; device: Device; path: string; size: number; content: number }
  | { kind: 'local-rename'; device: Device; path: string; to: string }
  | { kind: 'local-delete'; device: Device; path: string }
  | { kind: 'two-device-edit'; path: string; size: number; content: number; sizeB: number; contentB: number }
  | { kind: 'store-new' | 'store-edit'; path: string; size: number; content: number }
  | { kind: 'store-dup'; from: string; path: string }
  | { kind: 'dedupe-run' | 'balance-run' }
  /** downMs: how long the process stays dead, the disk full or the link cut. */
  | { kind: 'fault'; who: FaultWho; downMs: number }
  | { kind: 'revoke-friend'; content: number }
  /** Stop the faults, restart what is dead, settle, check every invariant. */
  | { kind: 'phase-end' }
  /** The first line of ops.jsonl: what a replay needs to build the same household. */
  | { kind: 'household'; seed: number };
export type Op = OpBody & At;

export const isRequest = (op: Op): op is Op & RequestOp => REQUEST_ACTIONS.includes(op.kind);

/** The bytes an op writes: a function of its size and content seed only. */
export function content(size: number, seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(r() * 256);
  return b;
}

export const joinPath = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
const parents = (p: string): string[] => p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
const other = (d: Device): Device => (d === 'alpha' ? 'beta' : 'alpha');

/**
 * The paths an op names, what it needs to exist before it (a folder, a file in the store, a file a
 * device holds, a share, a finished request) and what it makes: the shrinker's first cut adds the
 * makers of what the kept ops need, so a cut list does not just fail for want of its inputs.
 */
export function deps(op: Op): { paths: string[]; needs: string[]; makes: string[] } {
  const dirs = (p: string) => parents(p).map((x) => `dir:${x}`);
  switch (op.kind) {
    case 'get':
      return { paths: [op.path], needs: [`file:${op.path}`, ...dirs(op.path)], makes: [`${op.device}:${op.path}`, `req:${op.id}`] };
    case 'delete':
      return { paths: [op.path], needs: [`${op.device}:${op.path}`], makes: [`req:${op.id}`] };
    case 'move':
      return { paths: [op.path], needs: [`${op.device}:${op.path}`], makes: [`${other(op.device)}:${op.path}`, `req:${op.id}`] };
    case 'destroy':
    case 'share':
    case 'torrent':
    case 'torrent-once': {
      const what = op.folder ? `dir:${op.path}` : `file:${op.path}`;
      return { paths: [op.path], needs: [what, ...dirs(op.path)], makes: [`req:${op.id}`, ...(op.kind === 'share' ? [`share:${op.path}`] : [])] };
    }
    case 'share-folder':
      return { paths: [op.path], needs: [`dir:${op.path}`], makes: [`share:${op.path}`, `req:${op.id}`] };
    case 'revoke':
    case 'revoke-share':
      return { paths: [op.path], needs: [`share:${op.path}`], makes: [`req:${op.id}`] };
    case 'destroy-folder':
      return { paths: [op.path], needs: [`dir:${op.path}`], makes: [`req:${op.id}`] };
    case 'mkdir': {
      const full = joinPath(op.path, String(op.args.name));
      return { paths: [full], needs: op.path ? [`dir:${op.path}`] : [], makes: [`dir:${full}`, `req:${op.id}`] };
    }
    case 'replay':
      return { paths: [op.path], needs: [`req:${op.id}`], makes: [] };
    case 'local-new':
      return { paths: [op.path], needs: dirs(op.path), makes: [`file:${op.path}`, `${op.device}:${op.path}`] };
    case 'local-edit':
    case 'local-delete':
      return { paths: [op.path], needs: [`${op.device}:${op.path}`], makes: [] };
    case 'local-rename':
      return { paths: [op.path, op.to], needs: [`${op.device}:${op.path}`], makes: [`file:${op.to}`, `${op.device}:${op.to}`] };
    case 'two-device-edit':
      return { paths: [op.path], needs: [`alpha:${op.path}`, `beta:${op.path}`], makes: [] };
    case 'store-new':
      return { paths: [op.path], needs: dirs(op.path), makes: [`file:${op.path}`] };
    case 'store-edit':
      return { paths: [op.path], needs: [`file:${op.path}`], makes: [] };
    case 'store-dup':
      return { paths: [op.from, op.path], needs: [`file:${op.from}`, ...dirs(op.path)], makes: [`file:${op.path}`] };
    default:
      return { paths: [], needs: [], makes: [] };
  }
}

/** One line per op for a person: the same words as actions.log, from the op alone. */
export function describe(op: Op): string {
  const at = `[${op.phase}.${op.step}]`;
  switch (op.kind) {
    case 'replay':
      return `${at} ${op.device} replays ${op.action} ${op.path} id=${op.id}`;
    case 'local-new':
      return `${at} ${op.device} writes files/${op.path} (${op.size} B)`;
    case 'local-edit':
      return `${at} ${op.device} edits files/${op.path} (${op.size} B)`;
    case 'local-rename':
      return `${at} ${op.device} renames files/${op.path} -> ${op.to}`;
    case 'local-delete':
      return `${at} ${op.device} deletes files/${op.path}`;
    case 'two-device-edit':
      return `${at} alpha and beta both edit files/${op.path}`;
    case 'store-new':
      return `${at} NAS store gets files/${op.path} (${op.size} B)`;
    case 'store-edit':
      return `${at} NAS store edits files/${op.path} in place (${op.size} B)`;
    case 'store-dup':
      return `${at} NAS store copies files/${op.from} to files/${op.path}`;
    case 'dedupe-run':
    case 'balance-run':
      return `${at} burrow ${op.kind.replace('-run', '')}`;
    case 'fault':
      return `${at} FAULT (+${op.at} ms) ${op.who === 'disk' ? 'disk full' : op.who === 'cut' ? 'network cut' : `kill -9 ${op.who}`} for ${op.downMs} ms`;
    case 'revoke-friend':
      return `${at} owner revokes the friend's share`;
    case 'phase-end':
      return `${at} end of phase ${op.phase}: settle and check`;
    case 'household':
      return `household of seed ${op.seed}`;
    default:
      return `${at} ${op.device} ${op.kind} ${JSON.stringify(op.path)} ${JSON.stringify(op.args)} id=${op.id}`;
  }
}
