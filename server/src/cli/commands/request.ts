import crypto from 'node:crypto';
import { Option, type Command } from 'commander';
import { action, report, rootFrom, withRoot } from '../common.js';
import { runRequest } from '../../requests/run-local.js';
import { NAS_REQUESTER } from '../../requests/validate.js';
import { REQUEST_ACTIONS } from '../../actions/registry.js';
import type { RequestStatus } from '../../nas-context.js';

export interface RequestCliOptions {
  root?: string;
  device?: string;
  to?: string;
  name?: string;
  limitMb?: string;
  shareId?: string;
  yes?: boolean;
  json?: boolean;
  id?: string;
}

export function newRequestId(): string {
  return `cli-${Date.now().toString(36)}-${crypto.randomBytes(6).toString('hex')}`;
}

/** The request body the CLI options describe (the same shape as a worklist line). */
export function requestBody(actionName: string, path: string, o: RequestCliOptions): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (o.to !== undefined) args.to = o.to.split(',').map((s) => s.trim()).filter(Boolean);
  if (o.name !== undefined) args.name = o.name;
  if (o.limitMb !== undefined) args.limitMb = Number(o.limitMb);
  if (o.shareId !== undefined) args.shareId = o.shareId;
  return { id: o.id ?? newRequestId(), device: o.device ?? NAS_REQUESTER, action: actionName, path, args, confirm: o.yes === true };
}

/** Print a request's result; a failed request sets exit code 1. */
export function printResult(st: RequestStatus, json: boolean | undefined): void {
  report(json, st, () => {
    const lines = [`${st.action} ${st.path || '.'}: ${st.state}${st.reason ? ` — ${st.reason}` : ''}`];
    if (st.result && typeof st.result === 'object') for (const [k, v] of Object.entries(st.result)) lines.push(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    return lines.join('\n');
  });
  if (st.state === 'failed') process.exitCode = 1;
}

export function register(program: Command): void {
  withRoot(
    program
      .command('request <action> <path>')
      .description(`submit a request as a device would and wait for its result (actions: ${REQUEST_ACTIONS.join(', ')}); <path> is relative to files/ ("" for the top)`),
  )
    .option('--device <name>', 'the device the request is for (needed by get, delete and move)')
    .option('--to <devices>', 'move: the devices to move to, comma-separated')
    .option('--name <name>', 'mkdir: the new folder name')
    .option('--limit-mb <n>', 'share-folder: size limit in MB (-1 = none)')
    .option('--share-id <id>', 'revoke, revoke-share: the share to end')
    .option('--yes', 'confirm destroy and destroy-folder')
    .addOption(new Option('--id <id>', 'use this request id (a repeated id runs once)'))
    .option('--json', 'print one JSON document')
    .action(
      action(async (actionName: string, path: string, opts: RequestCliOptions) => {
        const st = await runRequest(rootFrom(opts), requestBody(actionName, path, opts));
        printResult(st, opts.json);
      }),
    );
}
