import { randomUUID } from 'node:crypto';
import type { BacktestData } from '../../backtest/runner.js';
import type { EventBus } from '../../core/events.js';
import type { ParamValue } from '../../strategy/types.js';
import type { StrategySourceKind } from '../resolve.js';
import { extractSource } from './answer.js';
import { lineDiff } from './diff.js';
import { type ChatMessage, type Completion, type LlmProvider, LlmError, type TokenUsage } from './llm.js';
import {
  type FormatReference,
  fixMessages,
  type GenerationInputKind,
  generationMessages,
  type OutputFormat,
} from './prompts.js';
import type { SandboxLimits } from '../sandbox/limits.js';
import { type AgentStep, AgentTimeline, type StepListener } from './timeline.js';
import { type CandidateVerdict, validateCandidate, type ValidationStage } from './validate.js';

/** The most analysis-and-fix attempts a generation ever makes (AUTH-8). */
export const MAX_FIX_ATTEMPTS = 3;

/** An agent run as persisted (the store's agent_runs row; `AgentRunsRepository.upsert` accepts it). */
export interface AgentRunRecord {
  id: string;
  agent: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  input: unknown;
  output?: unknown;
  steps?: unknown[];
  /** US dollars as a decimal string. */
  cost?: string;
  startedAt: number;
  finishedAt?: number;
}

/** Where runs are kept (the composition root binds it to the store). */
export interface AgentRunSink {
  upsert(run: AgentRunRecord): Promise<void>;
}

/** A strategy version written for a successful generation. */
export interface SavedVersion {
  strategyId: string;
  versionId: string;
  version: number;
}

/** Where a generated strategy becomes a strategy version (the composition root binds it to the store). */
export interface StrategyVersionSink {
  save(v: {
    name: string;
    kind: StrategySourceKind;
    source: string;
    description: string;
    params: Record<string, ParamValue>;
    note: string;
  }): Promise<SavedVersion>;
}

/** What a generation needs from the composition root. */
export interface GenerationDeps {
  /** Tried in order; the first that answers is asked again for fixes. */
  providers: readonly LlmProvider[];
  /** The smoke backtest's data (the bundled sample). */
  smokeData: BacktestData;
  /** The whole run's deadline (config agents.timeoutSeconds, 60 s by default). */
  timeoutMs: number;
  /** At most {@link MAX_FIX_ATTEMPTS}; larger values are cut to it. */
  maxFixAttempts?: number;
  bus?: EventBus;
  runs?: AgentRunSink;
  versions?: StrategyVersionSink;
  /** Masks secrets in every step (the vault's redactor). */
  mask?: (value: unknown) => unknown;
  now?: () => number;
  reference?: FormatReference;
  /** Budgets of a code candidate's sandboxed smoke backtest (default: the sandbox's defaults). */
  sandboxLimits?: SandboxLimits;
}

/** One generation request. */
export interface GenerationRequest {
  input: { kind: GenerationInputKind; text: string };
  /** The format to write (default: rules, or ts for a TypeScript input). */
  format?: OutputFormat;
  /** Name of the strategy to store (default: the name the definition carries). */
  name?: string;
  correlationId?: string;
  signal?: AbortSignal;
  /** Each streamed piece of every answer. */
  onDelta?: (text: string, attempt: number) => void;
  onStep?: StepListener;
}

/** One ask-and-check round: attempt 0 is the generation, 1..3 the fixes. */
export interface AttemptRecord {
  attempt: number;
  provider: string;
  model: string;
  prompt: ChatMessage[];
  response: string;
  /** Fixes: the change against the previous candidate. */
  diff?: string;
  outcome: 'ok' | ValidationStage;
  problems?: string[];
  tokens: TokenUsage;
}

/** Offered when no provider answered in time: the caller may write the strategy by hand. */
export interface ManualEntryOffer {
  reason: 'timeout' | 'no_provider';
  message: string;
  format: OutputFormat;
  /** The last candidate, when there was one, to start from. */
  draft?: string;
  offeredAt: number;
}

/** The result of a generation; it never throws for provider trouble. */
export interface GenerationResult {
  runId: string;
  correlationId: string;
  outcome: 'generated' | 'failed' | 'manual' | 'cancelled';
  strategy?: {
    name: string;
    kind: StrategySourceKind;
    source: string;
    smoke: Extract<CandidateVerdict, { ok: true }>['smoke'];
  };
  version?: SavedVersion;
  attempts: AttemptRecord[];
  /** Why the last candidate was refused (outcome failed). */
  problems?: string[];
  manualEntry?: ManualEntryOffer;
  usage: TokenUsage;
  /** Present when every provider used has prices configured. */
  costUsd?: number;
  steps: AgentStep[];
  /** When the deadline was (epoch ms). */
  deadlineAt: number;
}

type Asked =
  | { ok: true; completion: Completion }
  | { ok: false; reason: 'timeout' | 'cancelled' | 'no_provider'; errors: string[] };

/**
 * The generation agent (AUTH-6) with its analysis-and-fix loop (AUTH-8): asks the providers for a strategy, judges
 * the candidate (gate, compiler, smoke backtest), and sends each refusal back for a fix, at most three times,
 * stopping at the first success. A run that no provider answers before the deadline ends at once with a manual
 * entry offer. Every step goes to the timeline; the run (prompts, model, output, outcome) to `runs`, and a valid
 * strategy to `versions`.
 */
export async function generateStrategy(req: GenerationRequest, deps: GenerationDeps): Promise<GenerationResult> {
  const runId = randomUUID();
  const correlationId = req.correlationId ?? runId;
  const format: OutputFormat = req.format ?? (req.input.kind === 'ts' ? 'ts' : 'rules');
  const maxFixes = Math.min(MAX_FIX_ATTEMPTS, Math.max(0, deps.maxFixAttempts ?? MAX_FIX_ATTEMPTS));
  const tl = new AgentTimeline(runId, correlationId, 'generate', {
    ...(deps.bus ? { bus: deps.bus } : {}),
    ...(deps.mask ? { mask: deps.mask } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(req.onStep ? { listener: req.onStep } : {}),
  });
  const startedAt = tl.now();
  const deadlineAt = startedAt + deps.timeoutMs;
  const input = { kind: req.input.kind, text: req.input.text, format };
  const record = (status: AgentRunRecord['status'], extra: Partial<AgentRunRecord> = {}) =>
    deps.runs?.upsert({
      id: runId,
      agent: 'generate',
      status,
      input: deps.mask ? deps.mask(input) : input,
      steps: tl.steps,
      startedAt,
      ...extra,
    });
  tl.record('run.started', 'agent', {
    detail: {
      input: req.input.kind,
      format,
      providers: deps.providers.map((p) => `${p.name}/${p.model}`),
      timeoutMs: deps.timeoutMs,
    },
  });
  await record('running');

  // The deadline and the caller's cancel abort every call in flight; `stopped` settles the moment either fires.
  const ac = new AbortController();
  let timedOut = false;
  const stopped = new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new Error('generation deadline'));
  }, deps.timeoutMs);
  const onCancel = () => ac.abort(req.signal?.reason);
  if (req.signal?.aborted) onCancel();
  else req.signal?.addEventListener('abort', onCancel, { once: true });

  const usage: TokenUsage = { input: 0, output: 0 };
  let cost: number | undefined = 0;
  const order = [...deps.providers];
  const attempts: AttemptRecord[] = [];

  const ask = async (messages: ChatMessage[], attempt: number): Promise<Asked> => {
    const errors: string[] = [];
    for (const provider of [...order]) {
      if (ac.signal.aborted) break;
      const t0 = tl.now();
      const source = `${provider.name}/${provider.model}`;
      tl.record('llm.request', source, { detail: { attempt, messages } });
      const call = provider.complete({
        messages,
        signal: ac.signal,
        onDelta: (d) => {
          req.onDelta?.(d, attempt);
          tl.record('llm.delta', source, { detail: { attempt, text: d } });
        },
        onRetry: (r) => tl.record('llm.retry', source, { detail: { ...r, attempt, httpAttempt: r.attempt } }),
      });
      call.catch(() => {});
      try {
        const c = await Promise.race([call, stopped.then(() => undefined)]);
        if (!c) break;
        usage.input += c.usage.input;
        usage.output += c.usage.output;
        cost = cost === undefined || c.costUsd === undefined ? undefined : cost + c.costUsd;
        tl.record('llm.response', source, {
          startedAt: t0,
          tokens: c.usage,
          detail: {
            attempt,
            text: c.text,
            httpAttempts: c.attempts,
            ...(c.costUsd !== undefined ? { costUsd: c.costUsd } : {}),
          },
        });
        // The provider that answered is asked first next time.
        order.splice(order.indexOf(provider), 1);
        order.unshift(provider);
        return { ok: true, completion: c };
      } catch (err) {
        const reason = err instanceof LlmError ? err.reason : 'error';
        const msg = err instanceof Error ? err.message : String(err);
        errors.push(msg);
        tl.record('llm.failed', source, { startedAt: t0, detail: { attempt, reason, message: msg } });
      }
    }
    if (ac.signal.aborted) return { ok: false, reason: timedOut ? 'timeout' : 'cancelled', errors };
    return { ok: false, reason: 'no_provider', errors };
  };

  const judge = async (
    answer: string,
  ): Promise<{ verdict: CandidateVerdict; source?: string; kind?: StrategySourceKind }> => {
    const t0 = tl.now();
    const found = extractSource(answer, format);
    const verdict: CandidateVerdict = found
      ? await validateCandidate(found.source, found.kind, deps.smokeData, `generated.${found.kind}`, deps.sandboxLimits)
      : { ok: false, stage: 'answer', problems: ['the answer holds no fenced code block with a strategy'] };
    tl.record('validate', verdict.ok ? 'backtest' : verdict.stage, {
      startedAt: t0,
      detail: verdict.ok
        ? { ok: true, kind: found?.kind, smoke: verdict.smoke }
        : { ok: false, stage: verdict.stage, problems: verdict.problems },
    });
    return { verdict, ...(found ? { source: found.source, kind: found.kind } : {}) };
  };

  const finish = async (
    outcome: GenerationResult['outcome'],
    extra: Partial<GenerationResult>,
  ): Promise<GenerationResult> => {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCancel);
    tl.record('run.finished', 'agent', {
      startedAt,
      tokens: usage,
      detail: { outcome, attempts: attempts.length, ...(cost !== undefined ? { costUsd: cost } : {}) },
    });
    const result: GenerationResult = {
      runId,
      correlationId,
      outcome,
      attempts,
      usage,
      ...(cost !== undefined ? { costUsd: cost } : {}),
      steps: tl.steps,
      deadlineAt,
      ...extra,
    };
    const output = {
      outcome,
      ...(extra.strategy
        ? { kind: extra.strategy.kind, source: extra.strategy.source, smoke: extra.strategy.smoke }
        : {}),
      ...(extra.version ? { version: extra.version } : {}),
      ...(extra.problems ? { problems: extra.problems } : {}),
      ...(extra.manualEntry ? { manualEntry: extra.manualEntry } : {}),
      attempts: attempts.map((a) => ({ attempt: a.attempt, provider: a.provider, model: a.model, outcome: a.outcome })),
    };
    await record(outcome === 'generated' ? 'done' : outcome === 'cancelled' ? 'cancelled' : 'failed', {
      output: deps.mask ? deps.mask(output) : output,
      ...(cost !== undefined ? { cost: cost.toFixed(6) } : {}),
      finishedAt: tl.now(),
    });
    return result;
  };

  const giveUp = (asked: Extract<Asked, { ok: false }>, draft?: string): Promise<GenerationResult> => {
    if (asked.reason === 'cancelled') return finish('cancelled', {});
    const message =
      asked.reason === 'timeout'
        ? `no provider answered within ${Math.round(deps.timeoutMs / 1000)} s: write the strategy yourself (${format})`
        : `no provider could answer (${asked.errors.join('; ') || 'none configured'}): write the strategy yourself (${format})`;
    const manualEntry: ManualEntryOffer = {
      reason: asked.reason,
      message,
      format,
      ...(draft !== undefined ? { draft } : {}),
      offeredAt: tl.now(),
    };
    tl.record('manual_entry.offered', 'agent', { detail: manualEntry });
    return finish('manual', { manualEntry });
  };

  const first = generationMessages(req.input, format, deps.reference);
  const asked = await ask(first, 0);
  if (!asked.ok) return giveUp(asked);
  let current = await judge(asked.completion.text);
  attempts.push(attemptOf(0, asked.completion, first, current.verdict));

  for (let fix = 1; !current.verdict.ok && fix <= maxFixes; fix++) {
    const refused = current.verdict;
    const previous = current.source ?? asked.completion.text;
    const messages = fixMessages(format, previous, refused.stage, refused.problems, deps.reference);
    const t0 = tl.now();
    const answer = await ask(messages, fix);
    if (!answer.ok) return giveUp(answer, current.source);
    current = await judge(answer.completion.text);
    const diff = current.source !== undefined ? lineDiff(previous, current.source) : undefined;
    const rec = attemptOf(fix, answer.completion, messages, current.verdict, diff);
    attempts.push(rec);
    tl.record('fix.attempt', `${answer.completion.provider}/${answer.completion.model}`, {
      startedAt: t0,
      tokens: answer.completion.usage,
      detail: rec,
    });
  }

  const verdict = current.verdict;
  if (!verdict.ok) return finish('failed', { problems: verdict.problems });
  const source = current.source as string;
  const kind = current.kind as StrategySourceKind;
  const name = req.name ?? verdict.definition.name;
  const last = attempts[attempts.length - 1];
  const params: Record<string, ParamValue> = {};
  for (const p of verdict.definition.params) params[p.name] = p.default;
  const version = await deps.versions?.save({
    name,
    kind,
    source,
    description: verdict.definition.description,
    params,
    note: `generated by agent run ${runId} (${last.provider}/${last.model}, ${attempts.length - 1} fix${attempts.length === 2 ? '' : 'es'})`,
  });
  return finish('generated', {
    strategy: { name, kind, source, smoke: verdict.smoke },
    ...(version ? { version } : {}),
  });
}

function attemptOf(
  attempt: number,
  c: Completion,
  prompt: ChatMessage[],
  verdict: CandidateVerdict,
  diff?: string,
): AttemptRecord {
  return {
    attempt,
    provider: c.provider,
    model: c.model,
    prompt,
    response: c.text,
    ...(diff !== undefined ? { diff } : {}),
    outcome: verdict.ok ? 'ok' : verdict.stage,
    ...(verdict.ok ? {} : { problems: verdict.problems }),
    tokens: c.usage,
  };
}
