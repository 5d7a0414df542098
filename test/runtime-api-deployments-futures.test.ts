import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HomePaths, resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { AuthService, Redactor, Vault } from '../src/security/index.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { call, login, PASSWORD } from './server-api-fixture.js';

// A runtime trading the simulator's USDⓈ-M futures API (a config-file deployment there) refuses to create a
// deployment on that venue over the API: funding is booked only for the config file's deployments.
const MASTER = randomBytes(32).toString('hex');

let sim: SimulatorHandle;
let dir: string;
let home: HomePaths;
let runtime: Runtime | undefined;

beforeAll(async () => {
  sim = await startSimulator({ seed: 13, tickIntervalMs: 50 });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-api-futures-'));
  home = resolveHome({}, join(dir, 'home'));
  const seed = await openStore({ home });
  const vault = await Vault.create(seed, { masterKey: MASTER }, { redactor: new Redactor() });
  const auth = new AuthService(seed, { vault, passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
  await auth.createOwner('admin', PASSWORD);
  await seed.close();
  const config = resolveConfig({
    server: { port: 0 },
    venues: [
      { id: 'sim', type: 'simulator', options: { url: sim.url } },
      { id: 'fut', type: 'simulator', exchange: 'binanceusdm', options: { url: sim.url } },
    ],
    deployments: [
      { id: 'cfg-spot', strategy: 'sma-cross', params: { fast: 100, slow: 200 }, venue: 'sim', symbols: ['BTC/USDT'] },
      { id: 'cfg-fut', strategy: 'sma-cross', params: { fast: 100, slow: 200 }, venue: 'fut', symbols: ['BTC/USDT'] },
    ],
    runtime: { barSeconds: 1, warmupBars: 2, pollMs: 100, heartbeatSeconds: 1 },
  });
  runtime = await startRuntime({ config, profile: 'dev', home, env: { TRADEFORGE_MASTER_KEY: MASTER } });
}, 180_000);

afterAll(async () => {
  await runtime?.stop('test end');
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/deployments on a futures venue', () => {
  it('answers 400 naming body.venue, records nothing, and still creates on the spot venue beside it', async () => {
    const fx = { port: Number(new URL((runtime as Runtime).url).port) };
    const admin = await login(fx, 'admin');
    const body = {
      id: 'api-fut',
      strategy: 'sma-cross',
      params: { fast: 100, slow: 200 },
      venue: 'fut',
      symbols: ['ETH/USDT'],
      stake: '10%',
      mode: 'paper',
    };
    const refused = await call(fx, 'POST', '/api/deployments', { headers: admin.headers, body });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toBe(
      'body.venue: fut is a futures venue; its deployments come from the config file (funding payments are booked for those only)',
    );
    expect(refused.json.fields).toEqual([{ field: 'body.venue', message: expect.stringContaining('futures venue') }]);
    expect(await (runtime as Runtime).store.deployments.get('api-fut')).toBeUndefined();
    // The same request on the spot venue is created: the refusal is the venue's, not the request's.
    const created = await call(fx, 'POST', '/api/deployments', {
      headers: admin.headers,
      body: { ...body, id: 'api-spot', venue: 'sim' },
    });
    expect(created.status).toBe(201);
  });
});
