import { Command } from 'commander';
import { loadCommands } from './commands/index.js';
import { burrowVersion } from './common.js';

const program = new Command();
program
  .name('burrow')
  .description('Burrow: a self-hosted personal cloud. One NAS holds the store; every device gets the catalogue and only the files it asks for.')
  .version(burrowVersion(), '-V, --version', 'print the Burrow version')
  .showHelpAfterError('(run with --help for usage)');
for (const register of await loadCommands(process.argv.slice(2))) register(program);
await program.parseAsync(process.argv);
