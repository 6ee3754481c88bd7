import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every CLI command module, with the top-level command names it registers, in registration order
 * (device-set attaches to the group device creates). main.ts imports only the modules a command
 * line needs: loading all of them (fastify, the sync engine, ...) cost ~0.3 s of every call.
 */
export const commandModules: Array<{ names: string[]; load: () => Promise<{ register: Register }> }> = [
  { names: ['init'], load: () => import('./init.js') },
  { names: ['start'], load: () => import('./start.js') },
  { names: ['scan'], load: () => import('./scan.js') },
  { names: ['status'], load: () => import('./status.js') },
  { names: ['device'], load: () => import('./device.js') },
  { names: ['agent'], load: () => import('./agent.js') },
  { names: ['publish'], load: () => import('./publish.js') },
  { names: ['dedupe'], load: () => import('./dedupe.js') },
  { names: ['balance'], load: () => import('./balance.js') },
  { names: ['pin', 'unpin', 'pins'], load: () => import('./pin.js') },
  { names: ['device'], load: () => import('./device-set.js') },
  { names: ['device'], load: () => import('./device-remove.js') },
  { names: ['request'], load: () => import('./request.js') },
  { names: ['trash'], load: () => import('./trash.js') },
  { names: ['share'], load: () => import('./share.js') },
  { names: ['revoke'], load: () => import('./revoke.js') },
  { names: ['torrent'], load: () => import('./torrent.js') },
  { names: ['secret'], load: () => import('./secret.js') },
  { names: ['sync'], load: () => import('./sync.js') },
  { names: ['secrets'], load: () => import('./secrets.js') },
  { names: ['password'], load: () => import('./password.js') },
  { names: ['availability'], load: () => import('./availability.js') },
  { names: ['nas'], load: () => import('./nas.js') },
];

/** The modules for this command line: the named command's, or all of them (help, typos, no command). */
export async function loadCommands(argv: string[]): Promise<Register[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  // `burrow --version` needs no command at all (help and typos do: they list every command).
  if (first === undefined && argv.length > 0 && argv.every((a) => a === '-V' || a === '--version')) return [];
  const wanted = commandModules.filter((m) => first !== undefined && m.names.includes(first));
  const chosen = wanted.length > 0 ? wanted : commandModules;
  return Promise.all(chosen.map(async (m) => (await m.load()).register));
}
