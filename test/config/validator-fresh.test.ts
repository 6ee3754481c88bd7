import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { GENERATED_VALIDATORS, configValidatorSource } from '../../scripts/config-validator-source.js';
import { parseConfig } from '../../server/src/config/load.js';
import { REPO } from '../helpers/cli.js';

test.each(GENERATED_VALIDATORS.map((v) => [v.file, v] as const))('%s is the validator its schema makes (run npm run gen:config-validator)', (_file, v) => {
  expect(fs.readFileSync(path.join(REPO, v.file), 'utf8')).toBe(configValidatorSource(v));
});

test('it still fills defaults and names what is wrong', () => {
  expect(parseConfig('').http.port).toBe(7420);
  expect(() => parseConfig('http:\n  port: 70000\n  colour: blue\n')).toThrow(/http\.port: must be <= 65535.*http:? "colour" is not a known key|http: "colour" is not a known key.*http\.port/s);
});
