import type { Command } from 'commander';
import { register as init } from './init.js';
import { register as start } from './start.js';
import { register as scan } from './scan.js';
import { register as status } from './status.js';
import { register as device } from './device.js';
import { register as agent } from './agent.js';
import { register as publish } from './publish.js';
import { register as dedupe } from './dedupe.js';
import { register as balance } from './balance.js';
import { register as pin } from './pin.js';
import { register as deviceSet } from './device-set.js';
import { register as request } from './request.js';
import { register as trash } from './trash.js';
import { register as share } from './share.js';
import { register as revoke } from './revoke.js';
import { register as secret } from './secret.js';
import { register as sync } from './sync.js';
import { register as secrets } from './secrets.js';

/** Every CLI command module; each adds itself to the program. */
export const commandModules: Array<(program: Command) => void> = [init, start, scan, status, device, agent, publish, dedupe, balance, pin, deviceSet, request, trash, share, revoke, secret, sync, secrets];
