/**
 * Composition of the trading assistant (AUTH-10, docs/assistant.md): the configured providers with keys from the
 * vault, the account context read through the API port, signal cards kept in the store, and execution of a
 * confirmed card as a manual order through the port — the same path, and the same risk engine, as an order from
 * the order form.
 */
import {
  type ArenaResult,
  type AssistantAnswer,
  type AssistantDeps,
  type AssistantTurn,
  askAssistant,
  runArena,
} from '../authoring/agents/assistant.js';
import type { ContextToggles, TradingContextSource } from '../authoring/agents/assistant-context.js';
import type { LlmProvider } from '../authoring/agents/llm.js';
import { type ModelScore, type SignalOutcome, scoreSignals } from '../authoring/agents/signal-scores.js';
import type { Config } from '../core/config.js';
import type { EventBus } from '../core/events.js';
import { defaultRedactor } from '../security/redact.js';
import type { Vault } from '../security/vault.js';
import type { ApiPort, OrderDecision } from '../server/api/port.js';
import type { AssistantSignalRecord } from '../store/repositories/assistant.js';
import type { Store } from '../store/store.js';
import { audit } from './reconcile.js';

/** A card's execution: the risk engine's decision, or why the card was not sent to it. */
export interface SignalExecution {
  signal: AssistantSignalRecord;
  decision: OrderDecision;
}

/** Signal cards with how each would have done and each model's record. */
export interface SignalBoard {
  signals: (AssistantSignalRecord & Pick<SignalOutcome, 'lastPrice' | 'pnlIfFollowed' | 'hit'>)[];
  models: ModelScore[];
}

/** What the API offers of the assistant. */
export interface AssistantService {
  /** The configured models, the default first. */
  models(): { provider: string; type: string; model: string }[];
  chat(turn: AssistantTurn, provider?: string): Promise<AssistantAnswer & { contextSent: (keyof ContextToggles)[] }>;
  arena(turn: AssistantTurn, providers: readonly string[]): Promise<ArenaResult>;
  board(limit?: number): Promise<SignalBoard>;
  /** Places a card as an order through the risk engine; `confirm` must be true (a person approved it). */
  execute(id: string, actor: string): Promise<SignalExecution | undefined>;
}

/** A refusal before the risk engine: the card was not sent. */
export class SignalNotExecutable extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'SignalNotExecutable';
  }
}

/** Options of {@link assistantService}. */
export interface AssistantServiceOptions {
  config: Config;
  store: Store;
  port: ApiPort;
  vault?: Vault;
  bus?: EventBus;
  now?: () => number;
  /** Built providers (tests); default: built from `agents.providers` on first use. */
  providers?: readonly LlmProvider[];
}

/** The account context, read through the API port and the store's order history. */
export function portContext(port: ApiPort, store: Store): TradingContextSource {
  return {
    balance: () => port.control.balance(),
    positions: () => port.control.positions(),
    async recentOrders(limit) {
      const orders = await store.orders.list({ limit });
      return orders.map((o) => ({
        symbol: o.symbol,
        side: o.side,
        type: o.type,
        quantity: o.quantity,
        ...(o.price !== undefined ? { price: o.price } : {}),
        status: o.status,
        createdAt: o.createdAt,
      }));
    },
    async prices() {
      const out: Record<string, number> = {};
      // Positions' marks first; the runtime's own last prices win where it has them.
      for (const p of await port.control.positions()) if (p.markPrice !== undefined) out[p.symbol] = p.markPrice;
      if (port.prices) Object.assign(out, await port.prices());
      return out;
    },
  };
}

/** The assistant wired to the config, the vault, the store and the runtime's port. */
export function assistantService(o: AssistantServiceOptions): AssistantService {
  const now = o.now ?? Date.now;
  const context = portContext(o.port, o.store);
  let built: Promise<readonly LlmProvider[]> | undefined = o.providers ? Promise.resolve(o.providers) : undefined;
  const providers = () => {
    built ??= import('../authoring/agents/providers.js').then(({ buildProviders }) =>
      buildProviders(
        o.config.agents,
        o.vault ? (name) => (o.vault as Vault).get(name, 'agent', 'llm provider key') : undefined,
      ),
    );
    // A failed build (a missing key) is retried on the next call, once the operator fixed it.
    built.catch(() => {
      built = undefined;
    });
    return built;
  };
  const deps = async (): Promise<AssistantDeps> => ({
    providers: await providers(),
    context,
    timeoutMs: o.config.agents.timeoutSeconds * 1000,
    runs: o.store.agentRuns,
    signals: { save: (cards) => o.store.assistantSignals.add(cards) },
    mask: (v) => defaultRedactor.redact(v),
    now,
    ...(o.bus ? { bus: o.bus } : {}),
  });

  return {
    models: () => {
      const first = o.config.agents.defaultProvider ?? o.config.agents.providers[0]?.name;
      const list = o.config.agents.providers.map((p) => ({ provider: p.name, type: p.type, model: p.model }));
      return list.sort((a, b) => Number(b.provider === first) - Number(a.provider === first));
    },
    chat: async (turn, provider) => askAssistant(await deps(), turn, provider),
    arena: async (turn, names) => runArena(await deps(), turn, names),
    async board(limit = 200) {
      const [signals, last] = await Promise.all([o.store.assistantSignals.list({ limit }), context.prices()]);
      const scored = scoreSignals(signals, last);
      const byId = new Map(scored.outcomes.map((x) => [x.id, x]));
      return {
        signals: signals.map((s) => {
          const x = byId.get(s.id);
          return {
            ...s,
            ...(x?.lastPrice !== undefined ? { lastPrice: x.lastPrice } : {}),
            ...(x?.pnlIfFollowed !== undefined ? { pnlIfFollowed: x.pnlIfFollowed, hit: x.hit as boolean } : {}),
          };
        }),
        models: scored.models,
      };
    },
    async execute(id, actor) {
      const card = await o.store.assistantSignals.get(id);
      if (!card) return undefined;
      if (!o.port.placeOrder) throw new SignalNotExecutable(409, 'this runtime does not accept manual orders');
      if (!(await o.store.assistantSignals.claim(id, actor, now()))) {
        const current = await o.store.assistantSignals.get(id);
        throw new SignalNotExecutable(409, `signal ${id} was already ${current?.status ?? card.status}`);
      }
      await audit(o.store, {
        actor,
        action: 'assistant.signal.confirmed',
        subject: `signal:${id}`,
        details: {
          provider: card.provider,
          model: card.model,
          action: card.action,
          symbol: card.symbol,
          size: card.size,
        },
        time: now(),
      });
      let decision: OrderDecision;
      try {
        decision = await o.port.placeOrder(
          {
            symbol: card.symbol,
            side: card.action,
            type: card.price !== undefined ? 'limit' : 'market',
            quantity: card.size,
            ...(card.price !== undefined ? { price: card.price } : {}),
          },
          actor,
        );
      } catch (err) {
        decision = { accepted: false, code: 'ERROR', detail: err instanceof Error ? err.message : String(err) };
      }
      await o.store.assistantSignals.settle(id, {
        status: decision.accepted ? 'executed' : 'rejected',
        ...(decision.orderId ? { orderId: decision.orderId } : {}),
        ...(!decision.accepted ? { decision: `${decision.code ?? 'REJECTED'}: ${decision.detail ?? ''}`.trim() } : {}),
      });
      return { signal: (await o.store.assistantSignals.get(id)) as AssistantSignalRecord, decision };
    },
  };
}
