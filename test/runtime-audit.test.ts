import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { runCliAsync } from './fixtures/cli.js';
import { waitFor } from './fixtures/wait.js';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';

// A real runtime run against the exchange simulator (real ccxt over HTTP): the audit trail of one order, the
// positions table, the config hash and the JSON log, all from the runtime's own producers — nothing inserted by hand.
const bed = simBed('runtime-audit', 5);

interface Story {
  orderId: string;
  correlationId?: string;
  order?: { status: string; filledQuantity: number };
  signal?: Record<string, unknown>;
  riskDecisions: { action: string; details: Record<string, unknown> }[];
  venueMessages: { actor: string; details: { message: string } }[];
  fills: { quantity: number; price: number }[];
  timeline: { action: string }[];
}

describe('audit and logs of a real runtime run', () => {
  it('audit order shows signal, risk decision, venue messages and fills; the log follows one correlation id', async () => {
    // An unlocked vault lets the runtime append to the audit log.
    const { runtime, home, env } = await bed.start(
      {
        deployments: [simDeployment('aud', { stake: '40%' })],
        runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 5, heartbeatSeconds: 1 },
      },
      { vault: true },
    );
    const dep = runtime.deployments[0];
    const engine = dep.engine;
    await waitFor('a price and a live bar', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);
    const buy = engine.submitIntent({
      strategyId: 'aud',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(buy).not.toBeNull();
    const cid = dep.bridge.clientOrderIdOf(buy!);
    const correlationId = buy!.correlationId;
    expect(correlationId).toMatch(/^aud\.[a-z0-9]+\.s\d+$/);
    await waitFor('the buy filled', () => buy!.status === 'filled' && engine.portfolio.qty[0] > 0);
    // A second order of the same deployment and run: its client id shares the first one's prefix.
    const sell = engine.submitIntent({
      strategyId: 'aud',
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      quantity: 0.004,
    });
    expect(sell).not.toBeNull();
    await waitFor('the sell filled', () => sell!.status === 'filled');
    await bed.stop();

    // The story, from the CLI, by the client order id the store and the venue know the order by.
    const cliEnv = { home: home.root, env };
    const r = await runCliAsync(['audit', 'order', cid, '--json'], cliEnv);
    expect(r.code, r.err).toBe(0);
    const story = JSON.parse(r.out) as Story;
    expect(story.correlationId).toBe(correlationId);
    expect(story.order).toMatchObject({ status: 'filled' });
    expect(story.signal).toMatchObject({ side: 'buy', quantity: 0.01, symbol: 'BTC/USDT', correlationId });
    expect(story.riskDecisions.map((s) => s.action)).toEqual(['risk.checked']);
    expect(story.riskDecisions[0].details).toMatchObject({ accepted: true, inputs: { position: 0 } });
    const messages = story.venueMessages.map((m) => m.details.message);
    expect(messages.some((m) => m.startsWith('placeOrder sent: buy 0.01 BTC/USDT market'))).toBe(true);
    expect(messages.some((m) => /^placeOrder: /.test(m))).toBe(true);
    expect(
      messages.some((m) => m.startsWith('fill report: buy')),
      JSON.stringify(messages),
    ).toBe(true);
    expect(
      story.venueMessages.every((m) => m.actor === 'venue:sim'),
      JSON.stringify(story.venueMessages),
    ).toBe(true);
    expect(story.fills).toHaveLength(1);
    // Booked net of the fee the venue keeps in the base asset (0.1%).
    expect(story.fills[0].quantity).toBeCloseTo(0.01 * (1 - 0.001), 8);
    const actions = story.timeline.map((s) => s.action);
    for (const a of ['risk.checked', 'order.submitted', 'venue.message', 'fill.executed', 'order.filled']) {
      expect(actions).toContain(a);
    }
    expect(actions.indexOf('risk.checked')).toBeLessThan(actions.indexOf('order.submitted'));

    // The same story by the id the venue gave the order.
    const venueOrderId = (story.order as { venueOrderId?: string }).venueOrderId;
    expect(venueOrderId).toBeTruthy();
    const byVenue = await runCliAsync(['audit', 'order', venueOrderId as string, '--json'], cliEnv);
    expect(byVenue.code, byVenue.err).toBe(0);
    expect(JSON.parse(byVenue.out)).toMatchObject({ correlationId, order: { clientOrderId: cid } });
    // A prefix every order of this deployment shares (the entry and its protective stop): the matches are listed.
    const prefix = cid.slice(0, cid.lastIndexOf('-') + 1);
    const many = await runCliAsync(['audit', 'order', prefix], cliEnv);
    expect(many.code).toBe(2);
    const listed = many.err.split('\n').filter((l) => l.startsWith('  '));
    expect(many.err).toMatch(/^\d+ orders match ".*"; give more of the id:/);
    expect(listed.length).toBeGreaterThanOrEqual(2);
    expect(listed.some((l) => l.trim().startsWith(`${cid} `))).toBe(true);
    expect(listed.every((l) => l.trim().startsWith(prefix))).toBe(true);

    // Positions table written from position.changed.v1; config hash audited at start.
    const store = await openStore({ home });
    try {
      const positions = await store.positions.list({ strategyId: 'aud' });
      expect(positions).toHaveLength(1);
      expect(positions[0].quantity).toBeCloseTo(engine.portfolio.qty[0], 10);
      const config1 = await store.audit.bySubjects(['config:config']);
      expect(config1).toHaveLength(1);
      expect(JSON.parse(config1[0].details)).toMatchObject({ actor: 'runtime', to: { deployments: ['aud'] } });
    } finally {
      await store.close();
    }

    // The runtime's log file (logs/tradeforge.log, as docs/operations.md says) follows the correlation id.
    const raw = readFileSync(join(home.logs, 'tradeforge.log'), 'utf8').split('\n').filter(Boolean);
    // One component key per line (the runtime's child loggers used to repeat it).
    expect(raw.filter((l) => l.split('"component":').length !== 2)).toEqual([]);
    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    const chain = lines.filter((l) => l.correlationId === correlationId);
    const events = chain.map((l) => l.event);
    for (const e of [
      'risk.checked.v1',
      'order.submitted.v1',
      'venue.message.v1',
      'fill.executed.v1',
      'order.filled.v1',
    ]) {
      expect(events).toContain(e);
    }
    expect(new Set(chain.map((l) => l.component))).toEqual(new Set(['risk', 'execution', 'venue:sim', 'engine']));
    const submitted = chain.find((l) => l.event === 'order.submitted.v1');
    expect(submitted).toMatchObject({ clientOrderId: cid, symbol: 'BTC/USDT', strategyId: 'aud', deploymentId: 'aud' });
    expect(chain.filter((l) => l.event === 'venue.message.v1').every((l) => l.clientOrderId === cid)).toBe(true);
    for (const l of chain) expect(typeof l.timestamp).toBe('string');
  }, 300_000);
});
