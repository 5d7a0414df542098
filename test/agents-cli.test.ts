import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliAsync } from './fixtures/cli.js';
import { Vault } from '../src/security/vault.js';
import { openStore } from '../src/store/index.js';
import { FakeLlmServer } from './agents-llm-server.js';

const MASTER = randomBytes(32).toString('hex');
const KEY = 'sk-ant-cli-test-0123456789abcdefghijklmnop';
const RULES =
  'param fast = 10 in 5..30\nbuy when sma(fast) crosses above sma(30)\nsell when sma(fast) crosses below sma(30)';

const fake = new FakeLlmServer();
let dir = '';
let cfg = '';

/** Runs the CLI without blocking this process (the fake server answers from this event loop). */
const cli = (args: string[]) => runCliAsync(args, { home: join(dir, 'home'), env: { TRADEFORGE_MASTER_KEY: MASTER } });

beforeAll(async () => {
  const url = await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'tf-agents-cli-'));
  const store = await openStore({ home: join(dir, 'home') });
  const vault = await Vault.create(store, { masterKey: Buffer.from(MASTER, 'hex') });
  await vault.set('llm.anthropic', KEY);
  await store.close();
  cfg = join(dir, 'tradeforge.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      agents: {
        timeoutSeconds: 20,
        providers: [
          { name: 'local', type: 'openai-compatible', model: 'local-model', baseUrl: `${url}/v1`, maxRetries: 0 },
          { name: 'claude', type: 'anthropic', model: 'claude-x', baseUrl: url, apiKeySecret: 'llm.anthropic' },
        ],
      },
    }),
  );
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

// Each case spawns the CLI (seconds on a loaded machine); the limit is generous, nothing waits on time.
describe('tradeforge strategy generate', { timeout: 240_000 }, () => {
  it('--prompt writes the generated rules to --out and stores a version', async () => {
    fake.script({ answer: `\`\`\`rules\n${RULES}\n\`\`\`` });
    const out = join(dir, 'idea.rules');
    const r = await cli([
      'strategy',
      'generate',
      '--prompt',
      'buy the fast cross',
      '--provider',
      'local',
      '--name',
      'fast-cross',
      '--out',
      out,
      '--config',
      cfg,
    ]);
    expect(r.err).toContain('stored as version 1 of fast-cross');
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${RULES}\n`);
    expect(fake.requests.at(-1)?.text).toContain('buy the fast cross');
  });

  it('--rules FILE with a vault-held key and --json', async () => {
    const rules = join(dir, 'mine.txt');
    writeFileSync(rules, 'buy when the 10-day average crosses above the 30-day one');
    fake.script({ answer: `\`\`\`rules\n${RULES}\n\`\`\`` });
    const out = join(dir, 'from-rules');
    const r = await cli([
      'strategy',
      'generate',
      '--rules',
      rules,
      '--provider',
      'claude',
      '--json',
      '--out',
      out,
      '--config',
      cfg,
    ]);
    expect(r.code).toBe(0);
    // An --out without an extension gets the kind's.
    expect(readFileSync(`${out}.rules`, 'utf8')).toBe(`${RULES}\n`);
    const json = JSON.parse(r.out) as {
      outcome: string;
      attempts: { provider: string }[];
      version: { version: number };
    };
    expect(json.outcome).toBe('generated');
    expect(json.attempts[0].provider).toBe('claude');
    const seen = fake.requests.at(-1);
    expect(seen?.api).toBe('anthropic');
    expect([seen?.headers.authorization, seen?.headers['x-api-key']]).toContain(
      seen?.headers['x-api-key'] ? KEY : `Bearer ${KEY}`,
    );
    expect(seen?.text).toContain('10-day average');
  });

  it('a provider that is down ends with the manual-entry offer, exit 1, no stack trace', async () => {
    fake.script({ status: 503 });
    const r = await cli(['strategy', 'generate', '--prompt', 'x', '--provider', 'local', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('write the strategy yourself');
    expect(r.err).toContain('tradeforge strategy new NAME');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('names the mistake when the input flags are wrong', async () => {
    const r = await cli(['strategy', 'generate', '--prompt', 'x', '--pine', 'a.pine', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('give exactly one of --prompt TEXT, --rules FILE or --pine FILE');
    const missing = await cli(['strategy', 'generate', '--pine', join(dir, 'nope.pine'), '--config', cfg]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.pine: file not found');
  });
});
