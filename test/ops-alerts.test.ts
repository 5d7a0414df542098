import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DomainEvent, EventMap } from '../src/core/events.js';
import type { Fill } from '../src/core/fill.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import {
  type Alert,
  type AlertChannel,
  AlertRouter,
  alertFromEvent,
  DiscordChannel,
  EmailChannel,
  TelegramChannel,
} from '../src/ops/alerts/index.js';
import type { Severity } from '../src/ops/severity.js';
import { FakeDiscordServer, FakeSmtpServer, FakeTelegramServer, ManualClock, settle } from './ops-fakes.js';
import { waitFor } from './fixtures/wait.js';

const TOKEN = '123456:TEST-token-abcdefghijklmnopqrstuvwxyz';
const HOOK = '/api/webhooks/1234567890/secret-webhook-token';

let telegram: FakeTelegramServer;
let discord: FakeDiscordServer;
const smtp = new FakeSmtpServer('smtp-pass-123');
const mails = smtp.mails;

beforeAll(async () => {
  telegram = new FakeTelegramServer(TOKEN);
  await telegram.start();
  discord = new FakeDiscordServer();
  await discord.start();
  await smtp.start();
});

afterAll(async () => {
  await telegram.stop();
  await discord.stop();
  await smtp.stop();
});

beforeEach(() => {
  telegram.calls.length = 0;
  discord.posts.length = 0;
  mails.length = 0;
});

function channels(password = 'smtp-pass-123') {
  return [
    new TelegramChannel({ token: TOKEN, chatIds: [111, 222], apiRoot: telegram.url, minSeverity: 'info' }),
    new DiscordChannel({ webhookUrl: `${discord.url}${HOOK}`, minSeverity: 'warning' }),
    new EmailChannel({
      host: '127.0.0.1',
      port: smtp.port,
      user: 'alerts',
      password,
      from: 'tradeforge@example.test',
      to: ['ops@example.test', 'owner@example.test'],
      minSeverity: 'critical',
    }),
  ];
}

describe('alert channels against local servers speaking the real protocols', () => {
  it('routes by severity: info to Telegram only, warning adds Discord, critical adds email', async () => {
    const router = new AlertRouter({ channels: channels() });
    const info = await router.notify({ severity: 'info', title: 'Fill BUY 1 BTC/USDT', message: 'filled at 100' });
    expect(info.channels).toEqual({ telegram: 'sent', discord: 'below_severity', email: 'below_severity' });
    const warn = await router.notify({ severity: 'warning', title: 'Stop-loss hit', message: 'ETH closed at 90' });
    expect(warn.channels).toEqual({ telegram: 'sent', discord: 'sent', email: 'below_severity' });
    const crit = await router.notify({ severity: 'critical', title: 'KILL SWITCH triggered', message: 'by telegram' });
    expect(crit.channels).toEqual({ telegram: 'sent', discord: 'sent', email: 'sent' });
    await router.close();

    // Telegram: one sendMessage per chat per alert, authenticated by the token in the path.
    const sends = telegram.sent();
    expect(sends).toHaveLength(6);
    expect(sends.map((c) => c.params.chat_id)).toEqual([111, 222, 111, 222, 111, 222]);
    expect(sends.every((c) => c.token === TOKEN)).toBe(true);
    expect(sends[0].params.text).toBe('ℹ️ INFO: Fill BUY 1 BTC/USDT\nfilled at 100');
    expect(sends[4].params.text).toContain('🚨 CRITICAL: KILL SWITCH triggered');

    // Discord: JSON embeds posted to the webhook path.
    expect(discord.posts).toHaveLength(2);
    expect(discord.posts[0].path).toBe(HOOK);
    expect(discord.posts[0].contentType).toContain('application/json');
    const embed = (discord.posts[1].body.embeds as Record<string, unknown>[])[0];
    expect(embed).toMatchObject({
      title: 'CRITICAL: KILL SWITCH triggered',
      description: 'by telegram',
      color: 0xe74c3c,
    });

    // Email: one authenticated SMTP delivery to both recipients.
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({
      from: 'tradeforge@example.test',
      to: ['ops@example.test', 'owner@example.test'],
      user: 'alerts',
    });
    expect(mails[0].raw).toMatch(/Subject: \[tradeforge\] CRITICAL: KILL SWITCH triggered/);
    expect(mails[0].raw).toContain('by telegram');
  });

  it('reports a failing channel without blocking the others', async () => {
    const errors: string[] = [];
    const router = new AlertRouter({
      channels: channels('wrong-password'),
      onError: (name, err) => errors.push(`${name}: ${(err as Error).message}`),
    });
    telegram.failNext.push(400);
    discord.failNext.push(429);
    const out = await router.notify({ severity: 'critical', title: 'Breaker', message: 'daily loss' });
    await router.close();
    expect(out.channels).toEqual({ telegram: 'failed', discord: 'failed', email: 'failed' });
    expect(errors).toHaveLength(3);
    expect(errors.find((e) => e.startsWith('discord'))).toContain('HTTP 429');
    // The failing chat did not stop delivery to the second chat.
    expect(telegram.sent().filter((c) => c.params.chat_id === 222)).toHaveLength(1);
    expect(errors.join('\n')).not.toContain('secret-webhook-token');
    expect(mails).toHaveLength(0);
    expect(router.stats().email.failed).toBe(1);
  });

  it('never puts the bot token or webhook URL in delivery errors when the server is unreachable', async () => {
    const errors: unknown[] = [];
    const router = new AlertRouter({
      channels: [
        new TelegramChannel({ token: TOKEN, chatIds: [1], apiRoot: 'http://127.0.0.1:1' }),
        new DiscordChannel({ webhookUrl: `http://127.0.0.1:1${HOOK}`, minSeverity: 'info' }),
      ],
      onError: (_name, err) => errors.push(err),
    });
    const out = await router.notify({ severity: 'critical', title: 'x', message: 'y' });
    expect(out.channels).toEqual({ telegram: 'failed', discord: 'failed' });
    for (const err of errors) {
      expect(String((err as Error).message)).not.toContain(TOKEN);
      expect(String((err as Error).message)).not.toContain('secret-webhook-token');
    }
  });
});

class RecordingChannel implements AlertChannel {
  readonly sent: Alert[] = [];
  constructor(
    readonly name: string,
    readonly minSeverity: Severity = 'info',
  ) {}
  async send(alert: Alert): Promise<void> {
    this.sent.push(alert);
  }
}

describe('AlertRouter rate limiting and de-duplication', () => {
  it('suppresses the same key within dedupSeconds, counts it, and mentions the count on the next send', async () => {
    const clock = new ManualClock();
    const ch = new RecordingChannel('rec');
    const router = new AlertRouter({ channels: [ch], dedupSeconds: 300, clock });
    const a: Alert = { severity: 'warning', title: 'Feed stale', message: 'BTC/USDT', key: 'data.stale:BTC' };
    expect((await router.notify(a)).status).toBe('routed');
    await clock.advance(60_000);
    expect((await router.notify(a)).status).toBe('duplicate');
    expect((await router.notify({ ...a, message: 'other text, same key' })).status).toBe('duplicate');
    expect((await router.notify({ ...a, key: 'data.stale:ETH' })).status).toBe('routed');
    expect(ch.sent).toHaveLength(2);
    expect(router.duplicatesSuppressed).toBe(2);
    await clock.advance(240_001);
    expect((await router.notify(a)).status).toBe('routed');
    expect(ch.sent).toHaveLength(3);
    expect(ch.sent[2].message).toContain('2 identical alerts suppressed');
    // Without a key, title + message is the key.
    await router.notify({ severity: 'info', title: 't', message: 'm' });
    await router.notify({ severity: 'info', title: 't', message: 'm' });
    await router.notify({ severity: 'info', title: 't', message: 'm2' });
    expect(ch.sent).toHaveLength(5);
  });

  it('limits each channel per rolling minute and sends one summary of the overflow', async () => {
    const clock = new ManualClock();
    const fast = new RecordingChannel('fast');
    const router = new AlertRouter({ channels: [fast], ratePerMinute: 3, dedupSeconds: 0, clock });
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const severity: Severity = i === 6 ? 'critical' : 'info';
      outcomes.push((await router.notify({ severity, title: `alert ${i}`, message: 'x' })).channels.fast);
      await clock.advance(1000);
    }
    expect(outcomes).toEqual(['sent', 'sent', 'sent', ...Array(5).fill('rate_limited')]);
    expect(fast.sent).toHaveLength(3);
    // The window frees 60 s after the first send: the summary goes out then, critical titles first.
    await clock.advance(60_000 - 8000 - 1);
    expect(fast.sent).toHaveLength(3);
    await clock.advance(1);
    expect(fast.sent).toHaveLength(4);
    const summary = fast.sent[3];
    expect(summary.title).toBe('5 alerts held back by the rate limit');
    expect(summary.severity).toBe('critical');
    expect(summary.message.split('\n')[1]).toBe('[CRITICAL] alert 6');
    expect(summary.message).toContain('[info] alert 7');
    expect(router.stats().fast).toEqual({ sent: 3, failed: 0, rateLimited: 5, summaries: 1 });
    expect(clock.pending).toBe(0);
    // The summary used a slot of the new window; once the next old send expires there is room again.
    await clock.advance(1000);
    expect((await router.notify({ severity: 'info', title: 'later', message: 'y' })).channels.fast).toBe('sent');
    await router.close();
    expect(clock.pending).toBe(0);
  });

  it('rate limits per channel: a saturated channel does not hold back another', async () => {
    const clock = new ManualClock();
    const a = new RecordingChannel('a');
    const b = new RecordingChannel('b', 'critical');
    const router = new AlertRouter({ channels: [a, b], ratePerMinute: 2, dedupSeconds: 0, clock });
    for (let i = 0; i < 3; i++) await router.notify({ severity: 'info', title: `i${i}`, message: '' });
    const out = await router.notify({ severity: 'critical', title: 'crit', message: '' });
    expect(out.channels).toEqual({ a: 'rate_limited', b: 'sent' });
    await router.flush();
    expect(a.sent.at(-1)?.title).toBe('2 alerts held back by the rate limit');
  });
});

describe('AlertRouter queue bound', () => {
  it('drops the oldest waiting alerts past the bound, counts them, and says so in the next alert sent', async () => {
    const clock = new ManualClock();
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const slow = new RecordingChannel('slow');
    const send = slow.send.bind(slow);
    slow.send = async (a) => {
      await gate;
      return send(a);
    };
    const router = new AlertRouter({ channels: [slow], dedupSeconds: 0, clock, concurrency: 1, maxQueued: 2 });
    expect(router).toMatchObject({ queue: 'alerts', capacity: 2, policy: 'drop_oldest' });
    const outcomes = Array.from({ length: 5 }, (_, i) =>
      router.notify({ severity: 'warning', title: `a${i}`, message: 'm' }),
    );
    // a0 is being delivered; a1 and a2 were the oldest waiting when a3 and a4 came.
    expect(router.depth).toBe(2);
    expect(router.dropped).toBe(2);
    expect((await outcomes[1]).status).toBe('dropped');
    expect((await outcomes[2]).status).toBe('dropped');
    open();
    const rest = await Promise.all([outcomes[0], outcomes[3], outcomes[4]]);
    expect(rest.map((o) => o.channels.slow)).toEqual(['sent', 'sent', 'sent']);
    expect(slow.sent.map((a) => a.title)).toEqual(['a0', 'a3', 'a4']);
    expect(slow.sent[1].message).toContain('2 older alerts were dropped: the alert queue was full');
    expect(slow.sent[2].message).toBe('m');
    expect(router.depth).toBe(0);
    await router.close();
  });
});

describe('alerts from bus events', () => {
  const ev = <N extends keyof EventMap>(name: N, payload: EventMap[N]): DomainEvent<N> => ({
    name,
    time: 1_700_000_000_000,
    correlationId: 'c-1',
    source: 'engine',
    payload,
  });
  const fill: Fill = {
    id: 'f-1',
    orderId: 'o-1',
    clientOrderId: 'co-1',
    strategyId: 'sma-cross',
    symbol: 'BTC/USDT',
    side: 'buy',
    price: 50_000.5,
    quantity: 0.25,
    fee: 12.5,
    liquidity: 'taker',
    time: 1_700_000_000_000,
  };
  const trade = {
    strategyId: 'sma-cross',
    symbol: 'ETH/USDT',
    side: 'long' as const,
    entryTime: 1,
    entryPrice: 100,
    exitTime: 2,
    exitPrice: 95,
    quantity: 2,
    fees: 0.2,
    pnl: -10.2,
    pnlPct: -0.051,
    exitReason: 'stop_loss',
  };

  it('maps fills, breakers, stop-loss exits, kill switch and raised alerts; ignores other exits', () => {
    expect(alertFromEvent(ev('fill.executed.v1', { fill }))).toMatchObject({
      severity: 'info',
      title: 'Fill BUY 0.25 BTC/USDT @ 50000.5',
      key: 'fill:f-1',
    });
    expect(
      alertFromEvent(
        ev('breaker.tripped.v1', { breaker: 'dailyLoss', detail: 'daily loss 3.2 %', values: { loss: 0.032 } }),
      ),
    ).toMatchObject({ severity: 'critical', title: 'Circuit breaker tripped: dailyLoss' });
    expect(alertFromEvent(ev('trade.closed.v1', { trade }))).toMatchObject({
      severity: 'warning',
      title: 'Stop-loss hit: long ETH/USDT',
    });
    expect(alertFromEvent(ev('trade.closed.v1', { trade: { ...trade, exitReason: 'signal' } }))).toBeUndefined();
    expect(alertFromEvent(ev('killswitch.triggered.v1', { actor: 'telegram:1', reason: 'manual' }))).toMatchObject({
      severity: 'critical',
    });
    expect(
      alertFromEvent(ev('alert.raised.v1', { severity: 'critical', title: 'Heartbeat lost', message: 'm', key: 'hb' })),
    ).toMatchObject({ severity: 'critical', title: 'Heartbeat lost', key: 'hb' });
    expect(alertFromEvent(ev('heartbeat.beat.v1', { seq: 1 }))).toBeUndefined();
  });

  it('delivers bus events end to end through attach()', async () => {
    const bus = new InProcessEventBus();
    const router = new AlertRouter({ channels: channels() });
    const off = router.attach(bus);
    bus.publish(ev('fill.executed.v1', { fill }));
    bus.publish(ev('trade.closed.v1', { trade }));
    bus.publish(ev('killswitch.triggered.v1', { actor: 'telegram:111', reason: 'manual /kill' }));
    bus.publish(ev('heartbeat.beat.v1', { seq: 9 }));
    await waitFor('alerts', () => mails.length === 1 && discord.posts.length === 2 && telegram.sent().length === 6);
    off();
    bus.publish(ev('fill.executed.v1', { fill: { ...fill, id: 'f-2' } }));
    await settle();
    await router.close();
    expect(telegram.sent()).toHaveLength(6);
    const texts = telegram.sent().map((c) => String(c.params.text));
    expect(texts.filter((t) => t.includes('Stop-loss hit: long ETH/USDT'))).toHaveLength(2);
    expect(texts.filter((t) => t.includes('KILL SWITCH triggered'))).toHaveLength(2);
    expect(mails[0].raw).toContain('KILL SWITCH triggered');
    expect(mails[0].raw).toContain('manual /kill');
  });
});
