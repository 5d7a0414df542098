import type { EventBus } from '../../core/events.js';
import type { TokenUsage } from './llm.js';

/** The kinds of step an agent run records (docs/agents.md lists what each carries). */
export type AgentStepKind =
  | 'run.started'
  | 'llm.request'
  | 'llm.delta'
  | 'llm.retry'
  | 'llm.response'
  | 'llm.failed'
  | 'validate'
  | 'fix.attempt'
  | 'manual_entry.offered'
  | 'signals'
  | 'run.finished';

/** One recorded step: the payload of `agent.step.v1` plus its envelope's correlation id and source. */
export interface AgentStep {
  runId: string;
  correlationId: string;
  agent: string;
  step: AgentStepKind;
  source: string;
  startedAt: number;
  finishedAt: number;
  tokens?: TokenUsage;
  detail?: unknown;
}

/** Where a run's steps go besides the bus: the caller's own listener (the CLI prints them). */
export type StepListener = (step: AgentStep) => void;

/**
 * A run's timeline: every step is masked (vault values and secret-named fields), kept for the agent run record
 * (streamed text pieces are published but not kept: the response step holds the whole text) and published on the
 * bus as `agent.step.v1`, which the API's WebSocket streams on its `agent` topic.
 */
export class AgentTimeline {
  readonly steps: AgentStep[] = [];

  constructor(
    readonly runId: string,
    readonly correlationId: string,
    readonly agent: string,
    private readonly opts: {
      bus?: EventBus;
      mask?: (value: unknown) => unknown;
      now?: () => number;
      listener?: StepListener;
    } = {},
  ) {}

  /** The clock of the run. */
  now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Records a step that started at `startedAt` (default now) and ends now. */
  record(
    step: AgentStepKind,
    source: string,
    extra: { startedAt?: number; tokens?: TokenUsage; detail?: unknown } = {},
  ): AgentStep {
    const finishedAt = this.now();
    const raw: AgentStep = {
      runId: this.runId,
      correlationId: this.correlationId,
      agent: this.agent,
      step,
      source,
      startedAt: extra.startedAt ?? finishedAt,
      finishedAt,
      ...(extra.tokens ? { tokens: { ...extra.tokens } } : {}),
      ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
    };
    const s = (this.opts.mask ? this.opts.mask(raw) : raw) as AgentStep;
    if (step !== 'llm.delta') this.steps.push(s);
    this.opts.listener?.(s);
    const bus = this.opts.bus;
    if (bus?.hasSubscribers('agent.step.v1')) {
      bus.publish({
        name: 'agent.step.v1',
        time: s.finishedAt,
        correlationId: s.correlationId,
        source: `agent:${s.source}`,
        payload: {
          runId: s.runId,
          agent: s.agent,
          step: s.step,
          startedAt: s.startedAt,
          finishedAt: s.finishedAt,
          ...(s.tokens ? { tokens: s.tokens } : {}),
          ...(s.detail !== undefined ? { detail: s.detail } : {}),
        },
      });
    }
    return s;
  }
}
