import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IBApi } from '@stoqey/ib';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutEnvChanges } from './ibkr-venue.js';

// The library loads `.env` of the working folder into process.env the first time a client is built (once per
// process, so this file builds its first client here). A stray `.env` must not configure the runtime.
const dir = mkdtempSync(join(tmpdir(), 'tf-ib-env-'));
const cwd = process.cwd();
afterAll(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

describe('building an IB client', () => {
  it('leaves no variable of a .env file in the environment', () => {
    writeFileSync(join(dir, '.env'), 'TRADEFORGE__RISK__MAX_ORDER_NOTIONAL=999999999\nTF_IB_ENV_PROBE=loaded\n');
    process.chdir(dir);
    const ib = withoutEnvChanges(() => new IBApi({ host: '127.0.0.1', port: 1, clientId: 0 }));
    expect(ib).toBeDefined();
    expect(process.env.TF_IB_ENV_PROBE).toBeUndefined();
    expect(process.env.TRADEFORGE__RISK__MAX_ORDER_NOTIONAL).toBeUndefined();
  });

  it('keeps what was there before', () => {
    process.env.TF_IB_KEPT = 'yes';
    withoutEnvChanges(() => {
      process.env.TF_IB_ADDED = 'x';
    });
    expect(process.env.TF_IB_KEPT).toBe('yes');
    expect(process.env.TF_IB_ADDED).toBeUndefined();
    delete process.env.TF_IB_KEPT;
  });
});
