/**
 * What every LLM provider offers the agents: one streamed chat completion with token usage. Providers are the
 * edge to the outside world; everything above them (generation, auto-fix, the timeline) speaks only this.
 */

/** One message of a chat. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Tokens of one call. */
export interface TokenUsage {
  input: number;
  output: number;
}

/** One completion request. */
export interface CompletionRequest {
  messages: readonly ChatMessage[];
  /** Upper bound of answer tokens (default 4096). */
  maxTokens?: number;
  temperature?: number;
  /** Aborts the call (the generation's deadline). */
  signal?: AbortSignal;
  /** Each streamed piece of the answer, as it arrives. */
  onDelta?: (text: string) => void;
  /** Called before each retry with the attempt number (1-based), the HTTP status and the wait. */
  onRetry?: (info: RetryInfo) => void;
}

/** A retry about to happen. */
export interface RetryInfo {
  attempt: number;
  status: number;
  delayMs: number;
  /** True when the wait came from the server's Retry-After (or retry-after-ms) header. */
  fromHeader: boolean;
}

/** A finished completion. */
export interface Completion {
  text: string;
  provider: string;
  model: string;
  usage: TokenUsage;
  /** US dollars, when the provider's prices are configured. */
  costUsd?: number;
  /** HTTP attempts made (1 without retries). */
  attempts: number;
}

/** Dollars per million tokens, for cost accounting. */
export interface TokenPrices {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** An LLM provider (OpenAI, Anthropic, or an OpenAI-compatible endpoint). */
export interface LlmProvider {
  /** The configured name (`--provider NAME`). */
  readonly name: string;
  readonly kind: ProviderKind;
  readonly model: string;
  /** Streams one completion; retries 429/5xx with backoff; throws an {@link LlmError} when it cannot answer. */
  complete(req: CompletionRequest): Promise<Completion>;
}

/** The provider kinds the config accepts. */
export type ProviderKind = 'openai' | 'anthropic' | 'openai-compatible';

/** Why a provider call failed. */
export type LlmFailure = 'timeout' | 'aborted' | 'http' | 'unreachable' | 'stream_cut' | 'empty';

/** A provider call that failed, with the reason a caller can act on. */
export class LlmError extends Error {
  constructor(
    readonly provider: string,
    readonly reason: LlmFailure,
    message: string,
    readonly status?: number,
  ) {
    super(`${provider}: ${message}`);
    this.name = 'LlmError';
  }
}

/** Dollars of a call at the given prices. */
export function costOf(usage: TokenUsage, prices: TokenPrices | undefined): number | undefined {
  if (!prices) return undefined;
  return (usage.input * prices.inputPerMTok + usage.output * prices.outputPerMTok) / 1_000_000;
}
