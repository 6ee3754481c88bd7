import { waitFor } from '../../test/agent/harness.js';
import type { Driver } from './driver.js';
import type { PendingRequest } from './model.js';
import type { RequestOp } from './ops.js';

/** Catalogue requests through the agents' local APIs; the model follows only the NAS's outcome. */
type Outcome = { state: string; result: Record<string, unknown> | null; reason?: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function nasOutcome(drv: Driver, id: string): Promise<Outcome | null> {
  if (!drv.hh.alive('nas')) return null;
  try {
    const r = await drv.hh.nasGet<Outcome>(`/api/requests/${id}`);
    return r.status === 200 && r.json && (r.json.state === 'done' || r.json.state === 'failed') ? r.json : null;
  } catch {
    return null;
  }
}

/** Post op (args as given: a revoke's share id is the one of this run) and wait up to 20 s for its outcome. */
export async function postRequest(drv: Driver, op: RequestOp, args: Record<string, unknown>, touches: string[], apply: PendingRequest['apply']): Promise<void> {
  const { model, hh } = drv;
  for (const t of touches) model.busy.add(t);
  const pr: PendingRequest = { id: op.id, device: op.device, action: op.kind, path: op.path, args, phase: drv.phase, step: drv.step, posted: false, apply };
  model.pending.set(op.id, pr);
  drv.stats.requests++;
  try {
    pr.posted = (await hh.agentRequest(op.device, { id: op.id, action: op.kind, path: op.path, args })) === 202;
  } catch {
    pr.posted = false;
  }
  drv.record(op.kind, `${op.device} ${op.kind} ${JSON.stringify(op.path)} ${JSON.stringify(args)} id=${op.id}${pr.posted ? '' : ' (post failed: outcome unknown)'}`);
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const o = await nasOutcome(drv, op.id);
    if (o) return finish(drv, pr, o);
    await sleep(150);
  }
  drv.stats.requestsUnknown++;
  drv.note(`  ${op.id}: no outcome yet (either; settled after the phase)`);
}

function finish(drv: Driver, pr: PendingRequest, o: Outcome): void {
  drv.model.pending.delete(pr.id);
  drv.actions.push(`[${pr.phase}.${pr.step}]   ${pr.id}: ${o.state}${o.reason ? ` (${o.reason})` : ''}`);
  if (o.state === 'done') pr.apply({ ...o, id: pr.id });
  drv.finished.push({ id: pr.id, device: pr.device, action: pr.action, path: pr.path, args: pr.args });
}

/** Resolve every request whose outcome is open: re-post it with the same id (the NAS must run it once) and wait. */
export async function settleRequests(drv: Driver, deadline: number): Promise<string[]> {
  const problems: string[] = [];
  for (const pr of [...drv.model.pending.values()]) {
    let o = await nasOutcome(drv, pr.id);
    if (!o) {
      try {
        if (!pr.posted || (await drv.hh.nasGet(`/api/requests/${pr.id}`)).status === 404) {
          pr.posted = (await drv.hh.agentRequest(pr.device, { id: pr.id, action: pr.action, path: pr.path, args: pr.args })) === 202;
          drv.actions.push(`[${drv.phase}.settle] re-posted ${pr.id} (${pr.action} ${pr.path})`);
        }
      } catch {
        /* waited for below */
      }
      o = await waitFor(`the outcome of ${pr.id}`, () => nasOutcome(drv, pr.id), Math.max(5_000, deadline - Date.now()), 250).catch(() => null);
    }
    if (o) finish(drv, pr, o);
    else problems.push(`request ${pr.id} (${pr.device} ${pr.action} ${pr.path}) never finished`);
  }
  return problems;
}
