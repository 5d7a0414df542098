import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../src/core/events.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import type { ControlApi, ControlResult } from '../src/ops/control-port.js';
import { type ControlAuditEntry, TelegramControl } from '../src/ops/telegram-control.js';
import { botInfo, FakeTelegramServer } from './ops-fakes.js';
import { waitFor } from './fixtures/wait.js';

const TOKEN = '987654:CONTROL-token-abcdefghijklmnopqrstuvwx';
const OWNER = 5001;
const STRANGER = 666;

/** A ControlApi that records calls and keeps a little state, like the runtime would. */
class RecordingControl implements ControlApi {
  readonly calls: string[] = [];
  killed = false;
  entries = true;
  positionsOpen = [
    {
      id: 'd1:BTC/USDT',
      symbol: 'BTC/USDT',
      side: 'long' as const,
      quantity: 0.5,
      entryPrice: 50_000,
      unrealisedPnl: 125,
    },
    { id: 'd1:ETH/USDT', symbol: 'ETH/USDT', side: 'short' as const, quantity: 2, entryPrice: 3000 },
  ];
  async status() {
    this.calls.push('status');
    return {
      state: this.killed ? ('halted' as const) : ('running' as const),
      profile: 'dry_run',
      entriesEnabled: this.entries,
      killSwitchActive: this.killed,
      deployments: [{ id: 'd1', strategy: 'sma-cross', symbols: ['BTC/USDT'], venue: 'sim', state: 'running' }],
      openOrders: 3,
      openPositions: this.positionsOpen.length,
      breakersTripped: [],
    };
  }
  async profit() {
    this.calls.push('profit');
    return { currency: 'USDT', realisedPnl: 250.5, unrealisedPnl: -20, closedTrades: 4, winningTrades: 3 };
  }
  async balance() {
    this.calls.push('balance');
    return { currency: 'USDT', equity: 10_230.5, assets: [{ asset: 'USDT', free: 9000, used: 1000, total: 10_000 }] };
  }
  async positions() {
    this.calls.push('positions');
    return this.positionsOpen;
  }
  async stopEntries(actor: string): Promise<ControlResult> {
    this.calls.push(`stopEntries:${actor}`);
    this.entries = false;
    return { ok: true, message: 'new entries stopped' };
  }
  async startEntries(actor: string): Promise<ControlResult> {
    this.calls.push(`startEntries:${actor}`);
    this.entries = true;
    return { ok: true, message: 'entries enabled' };
  }
  async forceExit(target: string, actor: string): Promise<ControlResult> {
    this.calls.push(`forceExit:${target}:${actor}`);
    const found = target === 'all' ? this.positionsOpen : this.positionsOpen.filter((p) => p.id === target);
    if (found.length === 0) return { ok: false, message: `no open position ${target}` };
    return { ok: true, message: `closing ${found.length}`, detail: { closing: found.length } };
  }
  async kill(actor: string): Promise<ControlResult> {
    this.calls.push(`kill:${actor}`);
    this.killed = true;
    return { ok: true, message: 'kill switch engaged', detail: { cancelled: 3, closing: 2 } };
  }
  async recover(actor: string): Promise<ControlResult> {
    this.calls.push(`recover:${actor}`);
    if (!this.killed) return { ok: false, message: 'kill switch is not active' };
    this.killed = false;
    return { ok: true, message: 'trading re-enabled' };
  }
}

let server: FakeTelegramServer;
beforeAll(async () => {
  server = new FakeTelegramServer(TOKEN);
  await server.start();
});
afterAll(() => server.stop());

let control: TelegramControl | undefined;
afterEach(async () => {
  await control?.stop();
  control = undefined;
  server.calls.length = 0;
});

function repliesTo(chatId: number): string[] {
  return server
    .sent()
    .filter((c) => c.params.chat_id === chatId)
    .map((c) => String(c.params.text));
}

async function send(chatId: number, text: string, expectedReplies: number): Promise<string> {
  server.pushMessage(chatId, text);
  await waitFor(`reply to ${text}`, () => repliesTo(chatId).length >= expectedReplies);
  return repliesTo(chatId)[expectedReplies - 1];
}

describe('TelegramControl (OPS-4) over long polling against a local Bot API', () => {
  it('runs /kill for an authorised chat through ControlApi.kill, and refuses a stranger', async () => {
    const api = new RecordingControl();
    const bus = new InProcessEventBus();
    const alerts: DomainEvent<'alert.raised.v1'>[] = [];
    bus.subscribe('alert.raised.v1', (e: DomainEvent<'alert.raised.v1'>) => void alerts.push(e));
    const audit: ControlAuditEntry[] = [];
    control = new TelegramControl({
      token: TOKEN,
      apiRoot: server.url,
      botInfo: botInfo(),
      allowedChatIds: [OWNER],
      control: api,
      bus,
      audit: (e) => void audit.push(e),
      pollTimeoutSeconds: 1,
    });
    await control.start();
    expect(server.calls.some((c) => c.method === 'getMe')).toBe(false); // botInfo given: offline init

    const refused = await send(STRANGER, '/kill', 1);
    expect(refused).toContain('not authorised');
    expect(api.calls).toEqual([]);
    expect(api.killed).toBe(false);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].payload).toMatchObject({ severity: 'warning', title: 'Unauthorised Telegram command' });
    expect(audit[0]).toMatchObject({ chatId: STRANGER, command: 'kill', authorised: false, outcome: 'refused' });

    const killed = await send(OWNER, '/kill', 1);
    expect(api.calls).toEqual([`kill:telegram:${OWNER}@alice`]);
    expect(api.killed).toBe(true);
    expect(killed).toBe('✅ kill: kill switch engaged\ncancelled: 3 · closing: 2');
    expect(audit[1]).toMatchObject({ chatId: OWNER, command: 'kill', authorised: true, outcome: 'ok' });

    const status = await send(OWNER, '/status', 2);
    expect(status).toContain('🔴 halted · profile dry_run');
    expect(status).toContain('Kill switch: ACTIVE');
    expect(await send(OWNER, '/recover', 3)).toBe('✅ recover: trading re-enabled');
    expect(await send(OWNER, '/recover', 4)).toBe('❌ recover: kill switch is not active');
    expect(api.killed).toBe(false);
  });

  it('maps every command to its ControlApi method and formats the data', async () => {
    const api = new RecordingControl();
    control = new TelegramControl({
      token: TOKEN,
      apiRoot: server.url,
      botInfo: botInfo(),
      allowedChatIds: [String(OWNER)],
      control: api,
      pollTimeoutSeconds: 1,
    });
    await control.start();
    let n = 0;
    const ask = (text: string) => send(OWNER, text, ++n);
    expect(await ask('/profit')).toContain('Realised: +250.5 · unrealised: -20 · total: +230.5');
    expect(await ask('/balance')).toContain('Equity: 10,230.5 USDT');
    const positions = await ask('/positions');
    expect(positions).toContain('[d1:BTC/USDT] long 0.5 BTC/USDT @ 50,000');
    expect(positions).toContain('[d1:ETH/USDT] short 2 ETH/USDT');
    expect(await ask('/stopentry')).toBe('✅ stopentry: new entries stopped');
    expect(api.entries).toBe(false);
    expect(await ask('/startentry')).toBe('✅ startentry: entries enabled');
    expect(await ask('/forceexit d1:ETH/USDT')).toContain('✅ forceexit: closing 1');
    expect(await ask('/forceexit ALL')).toContain('closing: 2');
    expect(await ask('/forceexit nope')).toBe('❌ forceexit: no open position nope');
    expect(await ask('/forceexit')).toContain('Usage: /forceexit ID|all');
    expect(await ask(`/status@${botInfo().username}`)).toContain('Entries: enabled');
    expect(await ask('/help')).toContain('/kill — KILL SWITCH');
    expect(await ask('/frobnicate')).toContain('Unknown command /frobnicate');
    expect(api.calls).toEqual([
      'profit',
      'balance',
      'positions',
      `stopEntries:telegram:${OWNER}@alice`,
      `startEntries:telegram:${OWNER}@alice`,
      `forceExit:d1:ETH/USDT:telegram:${OWNER}@alice`,
      `forceExit:all:telegram:${OWNER}@alice`,
      `forceExit:nope:telegram:${OWNER}@alice`,
      'status',
    ]);
  });

  it('/pause and /resume reach ControlApi.pause / resume with the deployment id (default all)', async () => {
    const api = new RecordingControl();
    const paused = new Set<string>();
    const withPause: ControlApi = api;
    withPause.pause = async (target: string, actor: string) => {
      api.calls.push(`pause:${target}:${actor}`);
      if (paused.has(target)) return { ok: false, message: `${target} is already paused` };
      paused.add(target);
      return { ok: true, message: `paused ${target}` };
    };
    withPause.resume = async (target: string, actor: string) => {
      api.calls.push(`resume:${target}:${actor}`);
      return paused.delete(target) ? { ok: true, message: `resumed ${target}` } : { ok: false, message: 'not paused' };
    };
    control = new TelegramControl({
      token: TOKEN,
      apiRoot: server.url,
      botInfo: botInfo(),
      allowedChatIds: [OWNER],
      control: api,
      pollTimeoutSeconds: 1,
    });
    await control.start();
    let n = 0;
    const ask = (text: string) => send(OWNER, text, ++n);
    expect(await ask('/pause grid1')).toBe('✅ pause: paused grid1');
    expect(await ask('/pause grid1')).toBe('❌ pause: grid1 is already paused');
    expect(await ask('/resume grid1')).toBe('✅ resume: resumed grid1');
    expect(await ask('/pause')).toBe('✅ pause: paused all');
    expect(await ask('/help')).toContain('/pause — pause a grid');
    expect(api.calls).toEqual([
      `pause:grid1:telegram:${OWNER}@alice`,
      `pause:grid1:telegram:${OWNER}@alice`,
      `resume:grid1:telegram:${OWNER}@alice`,
      `pause:all:telegram:${OWNER}@alice`,
    ]);
  });

  it('replies with the error when the ControlApi throws, and rejects start on a wrong token', async () => {
    const api = new RecordingControl();
    api.balance = async () => {
      throw new Error('venue unreachable');
    };
    expect(
      await new TelegramControl({ token: TOKEN, allowedChatIds: [OWNER], control: api }).handle(OWNER, '/balance'),
    ).toBe('❌ /balance failed: venue unreachable');
    const bad = new TelegramControl({
      token: '1:wrong',
      apiRoot: server.url,
      botInfo: botInfo(),
      allowedChatIds: [OWNER],
      control: api,
      pollTimeoutSeconds: 1,
    });
    await expect(bad.start()).rejects.toThrow(/401|Unauthorized/);
    await bad.stop();
  });
});
