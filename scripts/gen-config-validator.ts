import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_VALIDATOR, configValidatorSource } from './config-validator-source.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
fs.writeFileSync(path.join(repo, GENERATED_VALIDATOR), configValidatorSource());
console.log(`wrote ${GENERATED_VALIDATOR}`);
