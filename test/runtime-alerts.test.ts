import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HomePaths, resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { Redactor } from '../src/security/redact.js';
import { Vault } from '../src/security/vault.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { FakeDiscordServer, FakeSmtpServer, FakeTelegramServer, type ReceivedMail } from './ops-fakes.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import { waitFor } from './fixtures/wait.js';

/** The kill switch through the authenticated API, with the CLI token the runtime wrote to run/. */
function control(url: string, action: 'kill' | 'recover', runDir: string): Promise<Response> {
  const token = readCliToken(runDir);
  return fetch(`${url}/api/control/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ confirm: true }),
  });
}

// Alerts and Telegram control wired through the whole runtime (OPS-3/OPS-4): secrets from the vault, alerts on
// Telegram, Discord and SMTP routed by each channel's minimum severity, Telegram commands from authorised chats only,
// and no secret in the runtime's log file.
const MASTER_KEY = randomBytes(32).toString('hex');
// Audit checkpoints go to a file outside the home folder (issue 10): one on every kill switch.
const CHECKPOINT_DIR = mkdtempSync(join(tmpdir(), 'tf-runtime-checkpoints-'));
const CHECKPOINT_FILE = join(CHECKPOINT_DIR, 'audit.checkpoints');
const TOKEN = '987654:RUNTIME-test-token-abcdefghijklmnop';
const HOOK_PATH = '/api/webhooks/5550001111/runtime-hook-secret-token';
const SMTP_PASSWORD = 'smtp-runtime-pass-4711';
const OWNER = 424_242;
const STRANGER = 666_666;

let sim: SimulatorHandle;
let telegram: FakeTelegramServer;
let discord: FakeDiscordServer;
const smtp = new FakeSmtpServer(SMTP_PASSWORD);
const mails = smtp.mails;
let dir: string;
let runtime: Runtime | undefined;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, tickIntervalMs: 50 });
  telegram = new FakeTelegramServer(TOKEN);
  await telegram.start();
  discord = new FakeDiscordServer();
  await discord.start();
  await smtp.start();
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-alerts-'));
});

afterAll(async () => {
  await runtime?.stop('test end');
  await telegram?.stop();
  await discord?.stop();
  await smtp.stop();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  spawnSync('chattr', ['-R', '-a', CHECKPOINT_DIR], { stdio: 'ignore' });
  rmSync(CHECKPOINT_DIR, { recursive: true, force: true });
});

/** Stores the secrets through the vault API, as `tradeforge secrets set` does. */
async function storeSecrets(home: HomePaths, secrets: Record<string, string>): Promise<void> {
  const store = await openStore({ home });
  try {
    // A private redactor: the runtime must mask the values itself, not because this setup revealed them.
    const vault = await Vault.create(store, { masterKey: MASTER_KEY }, { redactor: new Redactor() });
    for (const [name, value] of Object.entries(secrets)) await vault.set(name, value, 'test');
  } finally {
    await store.close();
  }
}

function config(extraAlerts: Record<string, unknown> = {}) {
  return resolveConfig({
    server: { port: 0 },
    venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
    // Periods so long that the strategy never signals: the test places the order itself.
    deployments: [
      { id: 'al', strategy: 'sma-cross', params: { fast: 100, slow: 200 }, venue: 'sim', symbols: ['BTC/USDT'] },
    ],
    runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
    audit: { checkpointFile: CHECKPOINT_FILE, checkpointIntervalMinutes: 0 },
    alerts: {
      telegram: { chatIds: [OWNER], apiRoot: telegram.url, minSeverity: 'info' },
      discord: { minSeverity: 'warning' },
      email: {
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        user: 'alerts',
        from: 'tradeforge@example.test',
        to: ['ops@example.test'],
        minSeverity: 'critical',
      },
      ...extraAlerts,
    },
  });
}

const sentTo = (chatId: number) =>
  telegram
    .sent()
    .filter((c) => Number(c.params.chat_id) === chatId)
    .map((c) => String(c.params.text));
const discordTitles = () =>
  discord.posts.map((p) => String((p.body.embeds as { title?: string }[] | undefined)?.[0]?.title ?? p.body.content));

function readLogs(home: HomePaths): string {
  expect(existsSync(home.logs)).toBe(true);
  return readdirSync(home.logs)
    .map((f) => readFileSync(join(home.logs, f), 'utf8'))
    .join('\n');
}

describe('runtime alerts and Telegram control', () => {
  it('routes alerts to Telegram, Discord and SMTP by severity and obeys only authorised Telegram chats', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    const webhookUrl = `${discord.url}${HOOK_PATH}`;
    await storeSecrets(home, {
      'telegram.token': TOKEN,
      'discord.webhook': webhookUrl,
      'smtp.password': SMTP_PASSWORD,
    });
    runtime = await startRuntime({
      config: config(),
      profile: 'dev',
      home,
      env: { TRADEFORGE_MASTER_KEY: MASTER_KEY },
    });
    const rt = runtime;
    const dep = rt.deployments[0];
    const engine = dep.engine;
    // The control bot polls the fake Bot API with the vault's token.
    await waitFor('telegram polling', () => telegram.sent('getUpdates').length > 0);
    expect(telegram.calls.every((c) => c.token === TOKEN)).toBe(true);
    await waitFor('a live price', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);

    // A fill is info: Telegram only (Discord wants warning, email critical).
    const buy = engine.submitIntent({
      strategyId: 'al',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(buy).not.toBeNull();
    await waitFor('the fill alert on Telegram', () => sentTo(OWNER).some((t) => /Fill BUY 0\.00999 BTC\/USDT/.test(t)));

    // An authorised /status gets the runtime's status.
    telegram.pushMessage(OWNER, '/status', 'owner');
    await waitFor('the /status reply', () => sentTo(OWNER).some((t) => t.includes('Kill switch: off')));
    const statusReply = sentTo(OWNER).find((t) => t.includes('Kill switch: off')) as string;
    expect(statusReply).toMatch(/running · profile dev/);
    expect(statusReply).toMatch(/open positions: 1/);
    expect(statusReply).toContain('al: sma-cross on sim [BTC/USDT]');

    // A stranger's /kill is refused, raises a warning (Telegram and Discord, not email) and changes nothing.
    telegram.pushMessage(STRANGER, '/kill', 'mallory');
    await waitFor('the refusal', () => sentTo(STRANGER).length > 0);
    expect(sentTo(STRANGER)).toHaveLength(1);
    expect(sentTo(STRANGER)[0]).toMatch(/not authorised/);
    await waitFor('the unauthorised-command alert on Discord', () =>
      discordTitles().some((t) => t.includes('Unauthorised Telegram command')),
    );
    expect(sentTo(OWNER).some((t) => t.includes('Unauthorised Telegram command'))).toBe(true);
    expect(engine.haltCode).toBeNull();
    expect((await fetch(`${rt.url}/healthz`)).status).toBe(200);
    // Nothing below warning reached Discord, nothing below critical reached email.
    expect(discordTitles().some((t) => t.startsWith('Fill'))).toBe(false);
    expect(mails).toHaveLength(0);

    // The runtime's control API needs credentials: an anonymous kill is refused and does nothing.
    const anonymous = await fetch(`${rt.url}/api/control/kill`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ confirm: true }),
    });
    expect(anonymous.status).toBe(401);
    expect(engine.portfolio.qty[0]).not.toBe(0);
    // The kill switch through the HTTP control API is critical: all three channels.
    const kill = await control(rt.url, 'kill', home.run);
    expect(kill.status).toBe(200);
    await waitFor('flat after kill', () => engine.portfolio.qty[0] === 0);
    await waitFor('the kill switch audit checkpoint', () =>
      existsSync(CHECKPOINT_FILE) ? readFileSync(CHECKPOINT_FILE, 'utf8').includes('"reason":"killswitch"') : false,
    );
    await waitFor('the kill alert by email', () => mails.some((m) => m.raw.includes('KILL SWITCH triggered')));
    const mail = mails.find((m) => m.raw.includes('KILL SWITCH triggered')) as ReceivedMail;
    expect(mail.user).toBe('alerts');
    expect(mail.to).toEqual(['ops@example.test']);
    expect(mail.raw).toMatch(/Subject: \[tradeforge\] CRITICAL: KILL SWITCH triggered/);
    await waitFor('the kill alert on Discord', () => discordTitles().some((t) => t.includes('KILL SWITCH triggered')));
    await waitFor('the kill alert on Telegram', () => sentTo(OWNER).some((t) => t.includes('KILL SWITCH triggered')));
    expect(discord.posts.every((p) => p.path === HOOK_PATH)).toBe(true);
    expect((await fetch(`${rt.url}/healthz`)).status).toBe(503);
    // Released through the API: a warning, so Discord and Telegram but no mail.
    const mailsBefore = mails.length;
    expect((await control(rt.url, 'recover', home.run)).status).toBe(200);
    expect(engine.haltCode).toBeNull();
    await waitFor('the release alert on Discord', () =>
      discordTitles().some((t) => t.includes('Kill switch released')),
    );

    // An authorised /kill engages the kill switch in the runtime through the same control API.
    telegram.pushMessage(OWNER, '/kill', 'owner');
    await waitFor('the /kill reply', () => sentTo(OWNER).some((t) => t.includes('kill switch engaged')));
    expect(engine.haltCode).toBe('KILL_SWITCH');
    expect((await fetch(`${rt.url}/healthz`)).status).toBe(503);
    expect((await rt.status()).killSwitchActive).toBe(true);
    await waitFor('the second kill alert by email', () =>
      mails.slice(mailsBefore).some((m) => m.raw.includes('KILL SWITCH triggered') && m.raw.includes('telegram:')),
    );
    expect(mails.slice(mailsBefore).some((m) => m.raw.includes('Kill switch released'))).toBe(false);
    // Every command was audited with its chat id, the stranger's as refused.
    const tgAudits: { chatId: number; outcome: string }[] = [];
    for await (const a of rt.store.audit.iterate()) {
      if (a.action === 'telegram.command') tgAudits.push(JSON.parse(a.details) as { chatId: number; outcome: string });
    }
    expect(tgAudits).toContainEqual(expect.objectContaining({ chatId: STRANGER, outcome: 'refused' }));
    expect(tgAudits).toContainEqual(expect.objectContaining({ chatId: OWNER, outcome: 'ok' }));

    await rt.stop('test');
    runtime = undefined;
    // The log recorded the alerts, never a secret.
    const log = readLogs(home);
    expect(log).toContain('KILL SWITCH triggered');
    for (const s of [TOKEN, TOKEN.split(':')[1], webhookUrl, HOOK_PATH, 'runtime-hook-secret-token', SMTP_PASSWORD]) {
      expect(log).not.toContain(s);
    }
  }, 300_000);

  it('keeps the other channels when a secret is missing, and says so when the vault is locked', async () => {
    const home = resolveHome({}, join(dir, 'partial'));
    const webhookUrl = `${discord.url}${HOOK_PATH}`;
    // The SMTP password is not stored: email is off, Telegram and Discord still alert.
    await storeSecrets(home, { 'telegram.token': TOKEN, 'discord.webhook': webhookUrl });
    const mailsBefore = mails.length;
    const postsBefore = discord.posts.length;
    const tgBefore = telegram.calls.length;
    runtime = await startRuntime({
      config: config(),
      profile: 'dev',
      home,
      env: { TRADEFORGE_MASTER_KEY: MASTER_KEY },
    });
    const rt = runtime;
    expect((await control(rt.url, 'kill', home.run)).status).toBe(200);
    await waitFor('the kill alert on Discord', () =>
      discord.posts.slice(postsBefore).some((p) => JSON.stringify(p.body).includes('KILL SWITCH triggered')),
    );
    await waitFor('the kill alert on Telegram', () =>
      telegram.calls.slice(tgBefore).some((c) => String(c.params.text).includes('KILL SWITCH triggered')),
    );
    await rt.stop('test');
    runtime = undefined;
    expect(mails.length).toBe(mailsBefore);
    expect(readLogs(home)).toContain(
      'alerts.email is configured but email alerts are off: secret \\"smtp.password\\" is not in the vault',
    );

    // The same home without the master key: the vault stays locked, every channel says why, the runtime runs.
    const callsBefore = telegram.calls.length;
    runtime = await startRuntime({ config: config(), profile: 'dev', home, env: {} });
    expect((await fetch(`${runtime.url}/healthz`)).status).toBe(503); // still killed from the first run
    await runtime.stop('test');
    runtime = undefined;
    expect(telegram.calls.length).toBe(callsBefore);
    const log = readLogs(home);
    for (const what of ['alerts.telegram', 'alerts.discord', 'alerts.email']) {
      expect(log).toMatch(
        new RegExp(`${what} is configured but [^"]* off: the vault is locked \\(set TRADEFORGE_MASTER_KEY`),
      );
    }
    for (const secret of [TOKEN, webhookUrl, 'runtime-hook-secret-token']) expect(log).not.toContain(secret);
  }, 300_000);
});
