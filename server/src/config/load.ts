import fs from 'node:fs';
import net from 'node:net';
import type { ValidateFunction } from 'ajv';
import YAML from 'yaml';
import type { BurrowConfig } from './schema.js';
import { validate as generatedValidate } from './validate-config.generated.js';
import { errors } from '../errors.js';

/** ajv's validator for ConfigSchema, compiled ahead of time (scripts/config-validator-source.ts). */
const validate = generatedValidate as ValidateFunction<BurrowConfig>;

/** Parse and validate a config document; fills in defaults for every missing key. */
export function parseConfig(text: string, file = 'config.yaml'): BurrowConfig {
  let doc: unknown;
  // A YAML warning (an unknown tag, say) is refused like an error: the key it touched would
  // otherwise load as something other than what its author wrote, and the warning would only
  // reach a terminal nobody reads.
  let problem: string | undefined;
  try {
    const d = YAML.parseDocument(text);
    problem = (d.errors[0] ?? d.warnings[0])?.message;
    if (problem === undefined) doc = d.toJS() ?? {};
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem !== undefined) throw errors.badConfig(file, `it is not valid YAML (${problem.split('\n')[0]})`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw errors.badConfig(file, 'the top level must be a mapping of keys');
  if (!validate(doc)) {
    const detail = (validate.errors ?? [])
      .map((e) => {
        const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
        const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}" is not a known key` : ` ${e.message}`;
        return `${where}:${extra}`;
      })
      .join('; ');
    throw errors.badConfig(file, detail);
  }
  const hostProblem = checkHttpHost(doc.http.host);
  if (hostProblem) throw errors.badConfig(file, `http.host: ${hostProblem}`);
  for (const h of doc.http.allowedHosts) if (!isHostName(h) && !net.isIP(h)) throw errors.badConfig(file, `http.allowedHosts: ${JSON.stringify(h)} is not a host name or IP address`);
  return doc;
}

export function loadConfig(file: string): BurrowConfig {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return parseConfig(text, file);
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function isHostName(s: string): boolean {
  return HOST_NAME.test(s);
}

/** Why a value cannot be http.host, or null. Empty binds every interface silently, so it is refused. */
export function checkHttpHost(host: string): string | null {
  if (host.trim() === '') return 'must not be empty (use 127.0.0.1, or 0.0.0.0 to listen on every interface with TLS)';
  if (net.isIP(host) || isHostName(host)) return null;
  return `${JSON.stringify(host)} is not an IP address or host name`;
}
