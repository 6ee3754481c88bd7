import type { WorkItem } from '../devices/exchange-formats.js';
import type { Action, ActionEnv, ValidRequest } from '../actions/types.js';
import { ACTIONS } from '../actions/registry.js';
import { resolveInside } from '../fsutil/safe-path.js';
import { validateDeviceName } from '../devices/device-name.js';
import { BurrowError, errors } from '../errors.js';

/** Client-made request ids: long enough to be unique, plain enough for file names and URLs. */
export const REQUEST_ID_RE = /^[A-Za-z0-9_-]{8,128}$/;
export const MAX_LINE_BYTES = 64 * 1024;
/** No action needs more than a short list in its arguments; deeper or larger args are refused. */
export const MAX_ARGS_DEPTH = 8;
export const MAX_ARGS_BYTES = 16 * 1024;
/** The requester name for the NAS owner at the console or admin UI (never a valid device name). */
export const NAS_REQUESTER = '@nas';

/** A request as received, before validation; fields are kept as given so the result can echo them. */
export type IncomingRequest = WorkItem;

/**
 * How deep a JSON value nests, walked without recursion and stopping at `limit + 1`, so a line
 * nesting 30,000 deep costs no stack (JSON.stringify would throw a RangeError on it).
 */
export function jsonDepth(v: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const c of Array.isArray(x) ? x : Object.values(x as Record<string, unknown>)) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return max;
}

/** Why these request arguments are refused (too deep, too large, not an object), or null. */
export function argsProblem(args: unknown): string | null {
  if (args === undefined) return null;
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return '"args" must be an object.';
  const depth = jsonDepth(args, MAX_ARGS_DEPTH);
  if (depth > MAX_ARGS_DEPTH) return `"args" nests more than ${MAX_ARGS_DEPTH} levels deep; the limit is ${MAX_ARGS_DEPTH}.`;
  const bytes = Buffer.byteLength(JSON.stringify(args));
  if (bytes > MAX_ARGS_BYTES) return `"args" is ${bytes} bytes of JSON; the limit is ${MAX_ARGS_BYTES} bytes (16 KiB).`;
  return null;
}

/** A field as a short string for a result row, whatever it holds (never throws, never recurses deep). */
const clip = (v: unknown, n = 1024): string => {
  if (typeof v === 'string') return v.slice(0, n);
  if (v === undefined) return '';
  if (v === null || typeof v !== 'object') return String(v).slice(0, n);
  if (jsonDepth(v, MAX_ARGS_DEPTH) > MAX_ARGS_DEPTH) return Array.isArray(v) ? '[…]' : '{…}';
  return (JSON.stringify(v) ?? '').slice(0, n);
};

/**
 * Shape check of a parsed line or body. `problem` is null when the shape is right; the fields
 * are always filled (clipped strings), so even a refused request gets a result row.
 */
export function readShape(raw: unknown): { id: string | null; req: IncomingRequest; problem: string | null } {
  const o = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
  const id = o && typeof o.id === 'string' && REQUEST_ID_RE.test(o.id) ? o.id : null;
  const badArgs = o ? argsProblem(o.args) : null;
  // Refused args are not kept: the row must be storable whatever the line held.
  const args = o && !badArgs && o.args !== undefined ? (o.args as Record<string, unknown>) : {};
  const req: IncomingRequest = { id: id ?? '', device: clip(o?.device, 128), action: clip(o?.action, 64), path: clip(o?.path, 4096), args, confirm: o?.confirm === true };
  let problem: string | null = null;
  if (badArgs) problem = badArgs;
  else if (o && jsonDepth(o, MAX_ARGS_DEPTH + 1) > MAX_ARGS_DEPTH + 1) problem = `The request nests more than ${MAX_ARGS_DEPTH + 1} levels deep; a request is a flat object whose "args" nest at most ${MAX_ARGS_DEPTH} deep.`;
  else if (!o) problem = 'A request must be a JSON object like {"id": "...", "device": "...", "action": "get", "path": "..."}.';
  else if (!id) problem = `The request id ${o.id === undefined ? 'is missing' : JSON.stringify(clip(o.id, 80)) + ' is not valid'}: use 8-128 letters, digits, "-" or "_".`;
  else if (typeof o.device !== 'string') problem = 'The request has no "device".';
  else if (typeof o.action !== 'string') problem = 'The request has no "action".';
  else if (typeof o.path !== 'string') problem = 'The request has no "path" (use "" for the top of the store).';
  else if (o.confirm !== undefined && typeof o.confirm !== 'boolean') problem = '"confirm" must be true or false.';
  return { id, req, problem };
}

/**
 * THE validation of a request, before anything touches the disk: a known action, a known
 * device, the action's arguments, confirmation for destroy, and the path through the one
 * safe-path function (no "..", no absolute path, no NUL, no backslash, no symlink on the way,
 * inside files/ or the device's folder, and existing). Throws a BurrowError naming the problem.
 */
export function validateRequest(inc: IncomingRequest, env: ActionEnv, opts: { allowInternal?: boolean } = {}): { action: Action; req: ValidRequest; source?: string } {
  const action = ACTIONS.get(inc.action);
  if (!action || (action.internal && !opts.allowInternal))
    throw new BurrowError('UNKNOWN_ACTION', `Unknown action ${JSON.stringify(inc.action)}.`, `Use one of: ${[...ACTIONS.values()].filter((a) => !a.internal).map((a) => a.name).join(', ')}.`);
  if (inc.device === NAS_REQUESTER) {
    if (action.needsDevice) throw new BurrowError('NEEDS_DEVICE', `${action.name} acts for a device; say which one.`, 'Pass --device <name> (the device that should get or lose the file).');
  } else {
    const name = validateDeviceName(inc.device);
    if (!env.store.devices.get(name)) throw errors.unknownDevice(name);
  }
  const argProblem = action.checkArgs(inc.args);
  if (argProblem) throw new BurrowError('BAD_ARGS', argProblem, `See "burrow request --help" for ${action.name}'s options.`);
  if (action.needsConfirm && !inc.confirm)
    throw new BurrowError('NEEDS_CONFIRMATION', `${action.name} removes data everywhere, so it needs confirmation ("confirm": true).`, 'Confirm in the catalogue, or pass --yes to burrow request.');
  // devices/<d>/.burrow/ is the device's own bookkeeping (its worklist): never a request's target.
  if (typeof inc.path === 'string' && (inc.path === '.burrow' || inc.path.startsWith('.burrow/')))
    throw new BurrowError('BAD_PATH', `Refused path ${JSON.stringify(inc.path)}: .burrow/ is reserved for Burrow's own files.`, 'Pick a path outside .burrow/.');
  const base = action.pathIn === 'device' ? env.layout.device(inc.device) : env.layout.files;
  const where = action.pathIn === 'device' ? `devices/${inc.device}` : 'files';
  let safe;
  try {
    safe = resolveInside(base, inc.path, { mustExist: action.pathMustExist ?? true });
  } catch (err) {
    if (err instanceof BurrowError && /does not exist/.test(err.message)) throw new BurrowError('UNKNOWN_PATH', `${where}/${inc.path} does not exist.`, 'Refresh the catalogue; it may have been moved, deleted or destroyed.');
    throw err;
  }
  return { action, req: { id: inc.id, device: inc.device, action: action.name, path: safe.rel, abs: safe.abs, args: inc.args, confirm: inc.confirm, source: '' } };
}

/** A BurrowError (or anything) as the one sentence stored as a failed request's reason. */
export function reasonOf(err: unknown): string {
  if (err instanceof BurrowError) return err.hint ? `${err.message} ${err.hint}` : err.message;
  return err instanceof Error ? err.message : String(err);
}
