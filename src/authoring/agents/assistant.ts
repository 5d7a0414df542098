/**
 * The trading assistant (AUTH-10): a chat that sees the parts of the account the trader switched on, streams its
 * answer, and turns the trades it suggests into signal cards. The arena sends one prompt with one context to
 * several models side by side. Nothing here places an order: a card is executed elsewhere, after a person
 * confirms it, through the risk engine.
 */
import { randomUUID } from 'node:crypto';
import type { EventBus } from '../../core/events.js';
import {
  ALL_CONTEXT,
  type ContextToggles,
  contextText,
  gatherContext,
  type TradingContextSource,
  type TradingSnapshot,
} from './assistant-context.js';
import type { AgentRunRecord, AgentRunSink } from './generate.js';
import { type ChatMessage, LlmError, type LlmProvider, type TokenUsage } from './llm.js';
import { parseSignalCards, SIGNAL_FORMAT, type SignalCard, type SignalProblem } from './signal-cards.js';
import { AgentTimeline, type StepListener } from './timeline.js';

/** The most models one arena compares. */
export const MAX_ARENA_MODELS = 4;

/** A signal card as kept for execution and tracking. */
export interface StoredSignal extends SignalCard {
  id: string;
  runId: string;
  provider: string;
  model: string;
  createdAt: number;
  /** The price the card is judged from: its limit price, else the last price when it was suggested. */
  referencePrice?: number;
}

/** Where cards are kept (the composition root binds it to the store). */
export interface SignalSink {
  save(signals: readonly StoredSignal[]): Promise<void>;
}

/** What the assistant needs from the composition root. */
export interface AssistantDeps {
  /** Every configured provider; a chat uses the named one or the first. */
  providers: readonly LlmProvider[];
  context: TradingContextSource;
  /** One answer's deadline (config agents.timeoutSeconds). */
  timeoutMs: number;
  bus?: EventBus;
  runs?: AgentRunSink;
  signals?: SignalSink;
  /** Masks secrets in every step (the vault's redactor). */
  mask?: (value: unknown) => unknown;
  now?: () => number;
}

/** One chat turn: the conversation so far (ending with the user's message) and what context to send. */
export interface AssistantTurn {
  messages: readonly ChatMessage[];
  /** Sections to send; a missing key is on. */
  context?: Partial<ContextToggles>;
  correlationId?: string;
  signal?: AbortSignal;
  /** Each streamed piece, with the provider it came from. */
  onDelta?: (text: string, provider: string) => void;
  onStep?: StepListener;
}

/** One model's answer. */
export interface AssistantAnswer {
  runId: string;
  provider: string;
  model: string;
  outcome: 'answered' | 'failed';
  text: string;
  signals: StoredSignal[];
  /** Suggestions that could not be read (never executable). */
  problems: SignalProblem[];
  usage: TokenUsage;
  costUsd?: number;
  /** Why no answer came (outcome failed). */
  error?: { reason: string; message: string };
}

/** The arena's answers, one per model, to the same prompt and context. */
export interface ArenaResult {
  correlationId: string;
  /** The context sections that were sent. */
  contextSent: (keyof ContextToggles)[];
  answers: AssistantAnswer[];
}

const SYSTEM = [
  "You are tradeforge's trading assistant. You help a trader understand their account and the markets and you may",
  'suggest trades. You never place orders: every suggestion is shown to the trader, who decides, and any order',
  "then passes the platform's risk engine. Be concrete and brief; say when you do not know.",
  SIGNAL_FORMAT,
].join('\n');

/** The messages sent for a turn: the system prompt, the account context when any, then the conversation. */
export function assistantMessages(turn: readonly ChatMessage[], snapshot: TradingSnapshot): ChatMessage[] {
  const ctx = contextText(snapshot);
  return [
    { role: 'system', content: ctx ? `${SYSTEM}\n\n${ctx}` : SYSTEM },
    ...turn.filter((m) => m.role !== 'system'),
  ];
}

function toggles(on: Partial<ContextToggles> | undefined): ContextToggles {
  return { ...ALL_CONTEXT, ...on };
}

function sectionsOn(on: ContextToggles): (keyof ContextToggles)[] {
  return (Object.keys(on) as (keyof ContextToggles)[]).filter((k) => on[k]);
}

function pick(providers: readonly LlmProvider[], name: string | undefined): LlmProvider {
  const p = name === undefined ? providers[0] : providers.find((x) => x.name === name);
  if (!p) {
    const names = providers.map((x) => x.name).join(', ') || 'none configured';
    throw new LlmError(name ?? 'assistant', 'unreachable', `no provider named "${name}" (configured: ${names})`);
  }
  return p;
}

/** One model's answer to a turn whose context is already gathered; never throws for provider trouble. */
async function answerWith(
  deps: AssistantDeps,
  provider: LlmProvider,
  turn: AssistantTurn,
  messages: ChatMessage[],
  sent: (keyof ContextToggles)[],
  correlationId: string,
): Promise<AssistantAnswer> {
  const runId = randomUUID();
  const source = `${provider.name}/${provider.model}`;
  const tl = new AgentTimeline(runId, correlationId, 'assistant', {
    ...(deps.bus ? { bus: deps.bus } : {}),
    ...(deps.mask ? { mask: deps.mask } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(turn.onStep ? { listener: turn.onStep } : {}),
  });
  const startedAt = tl.now();
  const question = turn.messages.at(-1)?.content ?? '';
  const input = { question, context: sent, provider: provider.name, model: provider.model };
  const record = (status: AgentRunRecord['status'], extra: Partial<AgentRunRecord> = {}) =>
    deps.runs?.upsert({
      id: runId,
      agent: 'assistant',
      status,
      input: deps.mask ? deps.mask(input) : input,
      steps: tl.steps,
      startedAt,
      ...extra,
    });
  tl.record('run.started', 'agent', { detail: { provider: source, context: sent } });
  await record('running');

  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('assistant deadline')), deps.timeoutMs);
  const onCancel = () => ac.abort(turn.signal?.reason);
  if (turn.signal?.aborted) onCancel();
  else turn.signal?.addEventListener('abort', onCancel, { once: true });
  const t0 = tl.now();
  tl.record('llm.request', source, { detail: { messages } });
  try {
    const c = await provider.complete({
      messages,
      signal: ac.signal,
      onDelta: (d) => {
        turn.onDelta?.(d, provider.name);
        tl.record('llm.delta', source, { detail: { text: d } });
      },
      onRetry: (r) => tl.record('llm.retry', source, { detail: r }),
    });
    tl.record('llm.response', source, { startedAt: t0, tokens: c.usage, detail: { text: c.text } });
    const parsed = parseSignalCards(c.text);
    const createdAt = tl.now();
    const last = parsed.cards.length ? await deps.context.prices().catch(() => ({}) as Record<string, number>) : {};
    const signals: StoredSignal[] = parsed.cards.map((card) => {
      const ref = card.price ?? last[card.symbol];
      return {
        ...card,
        id: randomUUID(),
        runId,
        provider: provider.name,
        model: provider.model,
        createdAt,
        ...(ref !== undefined && Number.isFinite(ref) ? { referencePrice: ref } : {}),
      };
    });
    tl.record('signals', 'assistant', {
      detail: { cards: signals.length, problems: parsed.problems },
    });
    if (signals.length) await deps.signals?.save(signals);
    tl.record('run.finished', 'agent', { startedAt, tokens: c.usage, detail: { outcome: 'answered' } });
    await record('done', {
      output: { text: c.text, signals: signals.map((s) => s.id), problems: parsed.problems },
      ...(c.costUsd !== undefined ? { cost: c.costUsd.toFixed(6) } : {}),
      finishedAt: tl.now(),
    });
    return {
      runId,
      provider: provider.name,
      model: provider.model,
      outcome: 'answered',
      text: c.text,
      signals,
      problems: parsed.problems,
      usage: c.usage,
      ...(c.costUsd !== undefined ? { costUsd: c.costUsd } : {}),
    };
  } catch (err) {
    const timedOut = ac.signal.aborted && !turn.signal?.aborted;
    const reason = timedOut ? 'timeout' : err instanceof LlmError ? err.reason : 'error';
    const message = timedOut
      ? `${provider.name} did not answer within ${Math.round(deps.timeoutMs / 1000)} s`
      : err instanceof Error
        ? err.message
        : String(err);
    tl.record('llm.failed', source, { startedAt: t0, detail: { reason, message } });
    tl.record('run.finished', 'agent', { startedAt, detail: { outcome: 'failed' } });
    await record(turn.signal?.aborted ? 'cancelled' : 'failed', { output: { reason, message }, finishedAt: tl.now() });
    return {
      runId,
      provider: provider.name,
      model: provider.model,
      outcome: 'failed',
      text: '',
      signals: [],
      problems: [],
      usage: { input: 0, output: 0 },
      error: { reason, message },
    };
  } finally {
    clearTimeout(timer);
    turn.signal?.removeEventListener('abort', onCancel);
  }
}

/** One chat turn with one model (the named provider, or the first configured). */
export async function askAssistant(
  deps: AssistantDeps,
  turn: AssistantTurn,
  provider?: string,
): Promise<AssistantAnswer & { contextSent: (keyof ContextToggles)[] }> {
  const chosen = pick(deps.providers, provider);
  const on = toggles(turn.context);
  const snapshot = await gatherContext(deps.context, on);
  const sent = sectionsOn(on);
  const answer = await answerWith(
    deps,
    chosen,
    turn,
    assistantMessages(turn.messages, snapshot),
    sent,
    turn.correlationId ?? randomUUID(),
  );
  return { ...answer, contextSent: sent };
}

/** The same turn, with the same context, to several models at once; one model's failure spoils no other answer. */
export async function runArena(deps: AssistantDeps, turn: AssistantTurn, providers: readonly string[]) {
  const unique = [...new Set(providers)];
  if (unique.length < 2 || unique.length > MAX_ARENA_MODELS) {
    throw new RangeError(`an arena compares 2 to ${MAX_ARENA_MODELS} models; ${unique.length} named`);
  }
  const chosen = unique.map((name) => pick(deps.providers, name));
  const on = toggles(turn.context);
  const snapshot = await gatherContext(deps.context, on);
  const sent = sectionsOn(on);
  const messages = assistantMessages(turn.messages, snapshot);
  const correlationId = turn.correlationId ?? randomUUID();
  const answers = await Promise.all(chosen.map((p) => answerWith(deps, p, turn, messages, sent, correlationId)));
  const result: ArenaResult = { correlationId, contextSent: sent, answers };
  return result;
}
