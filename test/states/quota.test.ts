import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { applyAgentReport } from '../../server/src/nas-sync/agent-report.js';
import { SecretsRepo } from '../../server/src/store/secrets-repo.js';
import { createLogger } from '../../server/src/log.js';
import type { NasContext } from '../../server/src/nas-context.js';
import { burrow } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;
let t: ReturnType<typeof tempDir> | undefined;
afterEach(() => t?.cleanup());

describe("the admin's device limit stands against agent reports", () => {
  it('device set --quota 2 survives the next report; device list shows admin, reported and effective limits', () => {
    t = tempDir('burrow-quota-');
    const root = path.join(t.dir, 'nas');
    initRoot(root);
    let r = openRoot(root);
    addDevice(r, 'desk', null);
    const file = path.join(t.dir, 'agent-report.json');
    const report = (limitBytes: number | null) => {
      fs.writeFileSync(file, JSON.stringify({ v: 1, device: 'desk', limitBytes, freeBytes: 10_000 * MiB, usedBytes: 0, agentVersion: 't', at: Date.now() }));
      applyAgentReport({ store: r.store, log: createLogger('silent') } as unknown as NasContext, new SecretsRepo(r.store.db), 'desk', file);
    };
    report(50 * MiB);
    r.close();
    expect(burrow(['device', 'set', 'desk', '--quota', '2', '--root', root]).status).toBe(0);
    r = openRoot(root);
    report(50 * MiB); // the agent keeps reporting its own 50 MiB
    expect(r.store.devices.get('desk')).toMatchObject({ quota_bytes: 2 * MiB, effective_quota_bytes: 2 * MiB, reported_limit_bytes: 50 * MiB });
    report(1 * MiB); // a smaller limit on the device lowers the effective one, not the admin's
    expect(r.store.devices.get('desk')).toMatchObject({ quota_bytes: 2 * MiB, effective_quota_bytes: 1 * MiB });
    r.close();
    const list = burrow(['device', 'list', '--json', '--root', root]);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ name: 'desk', quotaBytes: 2 * MiB, effectiveQuotaBytes: 1 * MiB, reported: expect.objectContaining({ limitBytes: 1 * MiB, freeBytes: 10_000 * MiB }) }),
    ]);
    const text = burrow(['device', 'list', '--root', root]).stdout;
    expect(text).toMatch(/admin limit\s+reported limit\s+reported free\s+effective limit/);
    expect(text).toMatch(/desk\s+2\.0 MiB\s+1\.0 MiB\s+9\.8 GiB\s+1\.0 MiB/);
  });
});
