import Anthropic from '@anthropic-ai/sdk';
import { type Completion, type CompletionRequest, costOf, type LlmProvider, LlmError, type TokenUsage } from './llm.js';
import { type ProviderSettings, sdkClientOptions, streamCut } from './openai-provider.js';
import { withRetries } from './retry.js';

/**
 * Anthropic messages over the official SDK, streamed (`message_start` … `content_block_delta` … `message_delta`
 * … `message_stop`). System messages become the `system` field. A stream without `message_stop` is reported cut.
 */
export class AnthropicProvider implements LlmProvider {
  readonly kind = 'anthropic' as const;
  readonly name: string;
  readonly model: string;
  private readonly client: Anthropic;

  constructor(private readonly settings: ProviderSettings) {
    this.name = settings.name;
    this.model = settings.model;
    this.client = new Anthropic(sdkClientOptions(settings));
  }

  /** Streams one message. */
  async complete(req: CompletionRequest): Promise<Completion> {
    const system = req.messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n\n');
    const messages = req.messages
      .filter((m) => m.role !== 'system')
      .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }));
    const { value, attempts } = await withRetries(
      this.name,
      this.settings.retry,
      req.signal,
      async (ctl) => {
        const stream = await this.client.messages.create(
          {
            model: this.model,
            max_tokens: req.maxTokens ?? this.settings.maxTokens ?? 4096,
            messages,
            stream: true,
            ...(system ? { system } : {}),
            ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
          },
          { signal: ctl.signal, timeout: this.settings.retry.idleTimeoutMs + 5_000 },
        );
        ctl.alive();
        let text = '';
        let finished = false;
        const usage: TokenUsage = { input: 0, output: 0 };
        try {
          for await (const ev of stream) {
            ctl.alive();
            if (ev.type === 'message_start') {
              usage.input = ev.message.usage.input_tokens;
              usage.output = ev.message.usage.output_tokens;
            } else if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') {
              text += ev.delta.text;
              req.onDelta?.(ev.delta.text);
            } else if (ev.type === 'message_delta') {
              usage.output = ev.usage.output_tokens;
            } else if (ev.type === 'message_stop') {
              finished = true;
            }
          }
        } catch (err) {
          throw streamCut(this.name, ctl.signal, err, text.length);
        }
        if (!finished) {
          throw new LlmError(
            this.name,
            'stream_cut',
            `the answer stream ended without message_stop after ${text.length} characters`,
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
