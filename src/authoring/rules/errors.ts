import { ValidationError } from '../../core/errors.js';

/** Edit distance between two words, a swap of neighbours counting as one edit (for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The nearest of `words` to `word` when it is close enough to be a likely typo. */
export function nearestWord(word: string, words: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const w of words) {
    const d = editDistance(word.toLowerCase(), w.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = w;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * A mistake in a strategy source text (rules or Pine): names file, line and column, shows the line with a caret
 * under the column, and suggests the nearest valid word when there is one.
 */
export class SourceError extends ValidationError {
  readonly line: number;
  readonly column: number;
  constructor(file: string, source: string, line: number, column: number, message: string, suggestion?: string) {
    const text = source.split(/\r?\n/)[line - 1] ?? '';
    const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
    super(
      `${file}:${line}:${column}: ${message}${hint}\n  ${text}\n  ${' '.repeat(Math.max(0, column - 1))}^`,
      'strategy',
    );
    this.line = line;
    this.column = column;
  }
}
