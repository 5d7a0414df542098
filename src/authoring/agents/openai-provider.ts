import OpenAI from 'openai';
import {
  type Completion,
  type CompletionRequest,
  costOf,
  type LlmProvider,
  LlmError,
  type TokenPrices,
  type TokenUsage,
} from './llm.js';
import { type RetryPolicy, withRetries } from './retry.js';

/** Settings of one provider, resolved from the config (`agents.providers[]`) and the vault. */
export interface ProviderSettings {
  name: string;
  model: string;
  /** API root; the vendor's own when absent (required for an OpenAI-compatible endpoint). */
  baseUrl?: string;
  /** The key read from the vault; an OpenAI-compatible local server may need none. */
  apiKey?: string;
  retry: RetryPolicy;
  prices?: TokenPrices;
  /** Answer token bound when the request gives none (default 4096). */
  maxTokens?: number;
}

/** A stream whose consumer sees an error after the answer began: reported as cut unless we aborted it. */
export function streamCut(provider: string, signal: AbortSignal, err: unknown, received: number): unknown {
  if (signal.aborted) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new LlmError(provider, 'stream_cut', `the answer stream broke after ${received} characters (${why})`);
}

/**
 * OpenAI chat completions over the official SDK, streamed (`stream: true` with usage in the last chunk). The same
 * class serves any OpenAI-compatible endpoint (`kind: 'openai-compatible'`, a base URL and a model). The SDK's own
 * retries are off: {@link withRetries} retries, so every retry is a timeline step and Retry-After is honoured.
 */
/**
 * Options both official SDK clients take alike: the key, the base URL, no retries of their own (each retry is a
 * timeline step of `withRetries`), and a timeout that is only a backstop just after our idle timer.
 */
export function sdkClientOptions(settings: ProviderSettings) {
  return {
    apiKey: settings.apiKey ?? 'none',
    ...(settings.baseUrl ? { baseURL: settings.baseUrl } : {}),
    maxRetries: 0,
    timeout: settings.retry.idleTimeoutMs + 5_000,
  };
}

export class OpenAiProvider implements LlmProvider {
  readonly name: string;
  readonly model: string;
  private readonly client: OpenAI;

  constructor(
    private readonly settings: ProviderSettings,
    readonly kind: 'openai' | 'openai-compatible' = 'openai',
  ) {
    this.name = settings.name;
    this.model = settings.model;
    this.client = new OpenAI(sdkClientOptions(settings));
  }

  /** Streams one chat completion. */
  async complete(req: CompletionRequest): Promise<Completion> {
    const maxTokens = req.maxTokens ?? this.settings.maxTokens ?? 4096;
    const { value, attempts } = await withRetries(
      this.name,
      this.settings.retry,
      req.signal,
      async (ctl) => {
        const stream = await this.client.chat.completions.create(
          {
            model: this.model,
            messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
            stream: true,
            stream_options: { include_usage: true },
            // OpenAI's newer models take max_completion_tokens; compatible servers mostly know only max_tokens.
            ...(this.kind === 'openai' ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens }),
            ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
          },
          { signal: ctl.signal, timeout: this.settings.retry.idleTimeoutMs + 5_000 },
        );
        ctl.alive();
        let text = '';
        let finished = false;
        const usage: TokenUsage = { input: 0, output: 0 };
        try {
          for await (const chunk of stream) {
            ctl.alive();
            const choice = chunk.choices[0];
            const delta = choice?.delta?.content;
            if (delta) {
              text += delta;
              req.onDelta?.(delta);
            }
            if (choice?.finish_reason) finished = true;
            if (chunk.usage) usage.input = chunk.usage.prompt_tokens;
            if (chunk.usage) usage.output = chunk.usage.completion_tokens;
          }
        } catch (err) {
          throw streamCut(this.name, ctl.signal, err, text.length);
        }
        if (!finished) {
          throw new LlmError(
            this.name,
            'stream_cut',
            `the answer stream ended without a finish reason after ${text.length} characters`,
          );
        }
        return { text, usage };
      },
      req.onRetry,
    );
    if (value.text.trim() === '') throw new LlmError(this.name, 'empty', 'the answer was empty');
    const costUsd = costOf(value.usage, this.settings.prices);
    return {
      text: value.text,
      provider: this.name,
      model: this.model,
      usage: value.usage,
      attempts,
      ...(costUsd !== undefined ? { costUsd } : {}),
    };
  }
}
