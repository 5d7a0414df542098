import type { StrategySourceKind } from '../resolve.js';

/** A strategy source taken out of an LLM answer. */
export interface ExtractedSource {
  kind: StrategySourceKind;
  source: string;
}

const FENCE = /```[ \t]*([A-Za-z]*)[^\n]*\n([\s\S]*?)```/g;
const LANGS: Readonly<Record<string, StrategySourceKind>> = {
  rules: 'rules',
  ts: 'ts',
  typescript: 'ts',
  pine: 'pine',
  pinescript: 'pine',
};

/**
 * The strategy in an answer: the first fenced block tagged rules, ts/typescript or pine; else the only untagged
 * block, read as `fallback`. Undefined when the answer holds no code block (the caller reports that as the problem).
 */
export function extractSource(answer: string, fallback: StrategySourceKind): ExtractedSource | undefined {
  const untagged: string[] = [];
  for (const m of answer.matchAll(FENCE)) {
    const kind = LANGS[m[1].toLowerCase()];
    if (kind) return { kind, source: m[2].trimEnd().concat('\n') };
    if (m[1] === '') untagged.push(m[2]);
  }
  if (untagged.length === 1) return { kind: fallback, source: untagged[0].trimEnd().concat('\n') };
  return undefined;
}
