import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_VALIDATORS, configValidatorSource } from './config-validator-source.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
for (const v of GENERATED_VALIDATORS) {
  fs.writeFileSync(path.join(repo, v.file), configValidatorSource(v));
  console.log(`wrote ${v.file}`);
}
