import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../errors.js';

/**
 * THE validation function for every path that comes from outside (a request, a worklist line,
 * an HTTP call, a peer). Nothing else may turn an outside string into a filesystem path.
 *
 * Returns the normalised relative path ('' for the area's root) and the absolute path.
 * Refuses: empty segments tricks, '..', '.', absolute paths, NUL, backslashes, control characters,
 * over-long names, and any existing symlink on the way (checked with lstat, component by component,
 * so a link planted inside the store can never lead out of it).
 */
export interface SafePath {
  rel: string;
  abs: string;
}

const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

export function normaliseRelPath(input: unknown): string {
  // Not String(input): a JSON object such as {"toString": true} makes String() throw a TypeError.
  if (typeof input !== 'string') throw errors.badPath(`(${input === null ? 'null' : typeof input})`, 'a path must be a string');
  if (input.length === 0 || input === '/' ) return '';
  if (input.includes('\0')) throw errors.badPath(input, 'it contains a NUL byte');
  if (input.includes('\\')) throw errors.badPath(input, 'it contains a backslash');
  const control = /\p{Cc}/u.exec(input);
  if (control) throw errors.badPath(input, `it contains the control character U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  if (path.posix.isAbsolute(input) || /^[A-Za-z]:/.test(input)) throw errors.badPath(input, 'absolute paths are not allowed');
  if (Buffer.byteLength(input) > MAX_PATH_BYTES) throw errors.badPath(input.slice(0, 80) + '…', `it is longer than ${MAX_PATH_BYTES} bytes`);
  const trimmed = input.endsWith('/') ? input.slice(0, -1) : input;
  const parts = trimmed.split('/');
  for (const part of parts) {
    if (part === '') throw errors.badPath(input, 'it has an empty segment ("//")');
    if (part === '..') throw errors.badPath(input, 'it contains ".."');
    if (part === '.') throw errors.badPath(input, 'it contains "."');
    if (Buffer.byteLength(part) > MAX_NAME_BYTES) throw errors.badPath(input.slice(0, 80) + '…', `a name is longer than ${MAX_NAME_BYTES} bytes`);
  }
  return parts.join('/');
}

/**
 * Resolve `rel` under `base` and prove no existing component is a symlink.
 * `mustExist` refuses paths that are not there yet (the caller's "unknown path" error is clearer).
 */
export function resolveInside(base: string, relInput: unknown, opts: { mustExist?: boolean } = {}): SafePath {
  const rel = normaliseRelPath(relInput);
  const abs = rel === '' ? base : path.join(base, rel);
  const relCheck = path.relative(base, abs);
  if (relCheck.startsWith('..') || path.isAbsolute(relCheck)) throw errors.badPath(String(relInput), 'it leads outside the store');
  let cur = base;
  const baseStat = lstatOrNull(base);
  if (!baseStat) throw errors.badPath(String(relInput), `the area ${base} does not exist`);
  if (baseStat.isSymbolicLink()) throw errors.badPath(String(relInput), `${base} is a symbolic link`);
  if (rel !== '') {
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      cur = path.join(cur, parts[i]!);
      const st = lstatOrNull(cur);
      if (!st) {
        if (opts.mustExist) throw errors.badPath(String(relInput), 'it does not exist');
        break;
      }
      if (st.isSymbolicLink()) throw errors.badPath(String(relInput), `"${parts.slice(0, i + 1).join('/')}" is a symbolic link`);
      if (i < parts.length - 1 && !st.isDirectory()) throw errors.badPath(String(relInput), `"${parts.slice(0, i + 1).join('/')}" is not a folder`);
    }
  }
  return { rel, abs };
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
