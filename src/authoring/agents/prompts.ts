import type { ChatMessage } from './llm.js';

/** What the user brought: a plain description, trading rules, Pine Script, or a TypeScript strategy. */
export type GenerationInputKind = 'prompt' | 'rules' | 'pine' | 'ts';

/** The formats a generated strategy can be written in. */
export type OutputFormat = 'rules' | 'ts';

/** Reference text per output format (the docs), included in the system prompt when given. */
export type FormatReference = Partial<Record<OutputFormat, string>>;

const FORMAT_GUIDE: Record<OutputFormat, string> = {
  rules:
    'Write the strategy in the tradeforge rule language, one statement per line: `param NAME = V in LO..HI`, ' +
    '`buy when EXPR`, `sell when EXPR`, `short when EXPR`, `cover when EXPR`, `stop loss N%`, `take profit N%`, ' +
    '`trailing stop N%`. Expressions use open/high/low/close/volume, indicators such as sma(n), ema(n), rsi(n), ' +
    'bbands(n, k).lower, `crosses above`, `crosses below`, and/or/not. Answer with one ```rules fenced block.',
  ts:
    "Write a TypeScript strategy file that imports only from 'tradeforge/sdk' and default-exports " +
    'defineStrategy({ name, description, params, create(p) { return { onBar(ctx) { ... } } } }). Use ctx.bar, ' +
    'ctx.buy(), ctx.sell(), ctx.position(), ctx.symbolIndex and the SDK indicators (Sma, Ema, Rsi ...). No other ' +
    'imports, no globals such as process, fetch, eval, Function or timers. Answer with one ```ts fenced block.',
};

/** A generation's input as the caller gives it: exactly one of a description, rules or Pine Script. */
export interface GivenInput {
  prompt?: string | undefined;
  rules?: string | undefined;
  pine?: string | undefined;
}

/** The one input of `given`; undefined unless exactly one of prompt, rules and pine is there. */
export function generationInput(given: GivenInput): { kind: 'prompt' | 'rules' | 'pine'; text: string } | undefined {
  const all = (['prompt', 'rules', 'pine'] as const).filter((k) => given[k] !== undefined);
  if (all.length !== 1) return undefined;
  const kind = all[0];
  return { kind, text: given[kind] as string };
}

const INPUT_INTRO: Record<GenerationInputKind, string> = {
  prompt: 'Turn this description of a trading idea into a strategy.',
  rules: 'Turn these trading rules into a strategy that does exactly what they say.',
  pine: 'Translate this Pine Script strategy into a tradeforge strategy with the same entries and exits.',
  ts: 'Rewrite this TypeScript strategy so it follows the format below.',
};

/** The system message of a run. */
export function systemPrompt(format: OutputFormat, reference: FormatReference = {}): string {
  const ref = reference[format];
  return [
    'You write trading strategies for tradeforge. Your answer must contain exactly one fenced code block with the',
    'whole strategy and nothing that is not part of it; a short explanation may follow the block.',
    FORMAT_GUIDE[format],
    ...(ref ? ['Reference:', ref] : []),
  ].join('\n');
}

/** The first request: the user's input and the format wanted. */
export function generationMessages(
  input: { kind: GenerationInputKind; text: string },
  format: OutputFormat,
  reference?: FormatReference,
): ChatMessage[] {
  const fence = input.kind === 'prompt' ? '' : input.kind;
  const body = input.kind === 'prompt' ? input.text : `\`\`\`${fence}\n${input.text}\n\`\`\``;
  return [
    { role: 'system', content: systemPrompt(format, reference) },
    { role: 'user', content: `${INPUT_INTRO[input.kind]}\n\n${body}` },
  ];
}

/** An analysis-and-fix request: the failing source, which check refused it and every problem reported. */
export function fixMessages(
  format: OutputFormat,
  source: string,
  stage: string,
  problems: readonly string[],
  reference?: FormatReference,
): ChatMessage[] {
  const what =
    stage === 'answer'
      ? 'The previous answer held no usable fenced code block.'
      : `The strategy below was refused by the ${stage === 'backtest' ? 'smoke backtest' : stage === 'gate' ? 'safety gate' : 'compiler'}.`;
  return [
    { role: 'system', content: systemPrompt(format, reference) },
    {
      role: 'user',
      content: [
        `${what} Analyse the problems, then answer with the whole corrected strategy in one fenced block.`,
        '',
        'Problems:',
        ...problems.map((p) => `- ${p}`),
        '',
        `\`\`\`${format}`,
        source.trimEnd(),
        '```',
      ].join('\n'),
    },
  ];
}
