/**
 * One error class for everything Burrow reports to a person, with a stable `code` that
 * scripts and tests can match on (the hypercore habit: one class, a factory per code).
 * `hint` says what to do next; the CLI prints it under the message.
 */
export class BurrowError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BurrowError';
    this.code = code;
    this.hint = hint;
  }
  toJSON(): { code: string; message: string; hint?: string } {
    return this.hint ? { code: this.code, message: this.message, hint: this.hint } : { code: this.code, message: this.message };
  }
}

export const errors = {
  rootMissing: (root: string) =>
    new BurrowError('ROOT_MISSING', `The NAS root ${root} does not exist or is not a Burrow root.`, `Create it with: burrow init --root ${root}`),
  rootNotWritable: (root: string, cause?: unknown) =>
    new BurrowError('ROOT_READ_ONLY', `The NAS root ${root} is not writable.`, 'Check the mount (is it read-only?) and the permissions, then try again.', { cause }),
  crossDevice: (a: string, b: string) =>
    new BurrowError(
      'CROSS_DEVICE',
      `${a} and ${b} are on different filesystems, so hard links between them are impossible.`,
      'Put files/, devices/ and shared/ on one filesystem (no separate mounts or symlinks to other disks).',
    ),
  filesIsSymlink: (p: string) =>
    new BurrowError('FILES_IS_SYMLINK', `${p} is a symbolic link. Burrow never follows links out of its root.`, 'Replace the link with the real folder (or mount the disk there) and try again.'),
  locked: (root: string, pid: number) =>
    new BurrowError('ROOT_LOCKED', `Another Burrow NAS process (pid ${pid}) is already running on ${root}.`, `Stop it first (kill ${pid}), or use a different --root.`),
  dbCorrupt: (file: string, cause?: unknown) =>
    new BurrowError('DB_CORRUPT', `The database ${file} is damaged or is not a Burrow database.`, `Move it aside (mv ${file} ${file}.bad) and run "burrow scan" to rebuild the index; your files are not touched.`, { cause }),
  dbTooNew: (file: string, have: number, know: number) =>
    new BurrowError('DB_TOO_NEW', `The database ${file} is at schema version ${have}, but this Burrow only knows up to ${know}.`, 'Upgrade Burrow to the version that wrote it; do not downgrade a root.'),
  badConfig: (file: string, detail: string) =>
    new BurrowError('BAD_CONFIG', `The config file ${file} is invalid: ${detail}`, 'Fix that key (every key is documented in the file itself), or delete the file to get the defaults back.'),
  badPath: (p: string, why: string) => new BurrowError('BAD_PATH', `Refused path ${JSON.stringify(p)}: ${why}.`, 'Paths are relative to files/, with no "..", no leading "/", and no symbolic links on the way.'),
  badDeviceName: (name: string, why: string) =>
    new BurrowError('BAD_DEVICE_NAME', `Refused device name ${JSON.stringify(name)}: ${why}.`, 'Use 1-64 letters, digits, "-", "_" or "." (not only dots), e.g. "laptop" or "htc-phone".'),
  unknownDevice: (name: string) => new BurrowError('UNKNOWN_DEVICE', `There is no device named ${JSON.stringify(name)}.`, 'List devices with "burrow device list", or add it with "burrow device add <name>".'),
  deviceExists: (name: string) => new BurrowError('DEVICE_EXISTS', `A device named ${JSON.stringify(name)} already exists.`, 'Pick another name, or use the existing device.'),
};

/** Turn anything thrown into a one-line message a person can read. */
export function describeError(err: unknown): string {
  if (err instanceof BurrowError) return err.hint ? `${err.message}\n  → ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
