import { describe, expect, it } from 'vitest';
import { extractSource } from './answer.js';
import { lineDiff } from './diff.js';

describe('extractSource', () => {
  it('takes the first block tagged with a strategy language, whatever comes around it', () => {
    const a = 'Sure.\n```json\n{}\n```\n```typescript\nexport default 1;\n```\n```rules\nbuy when close > 1\n```';
    expect(extractSource(a, 'rules')).toEqual({ kind: 'ts', source: 'export default 1;\n' });
  });
  it('reads a single untagged block as the wanted format, and finds nothing in prose', () => {
    expect(extractSource('```\nbuy when close > open\n```', 'rules')).toEqual({
      kind: 'rules',
      source: 'buy when close > open\n',
    });
    expect(extractSource('I cannot help with that.', 'rules')).toBeUndefined();
    expect(extractSource('```\na\n```\n```\nb\n```', 'rules')).toBeUndefined();
  });
});

describe('lineDiff', () => {
  it('marks removed and added lines with context', () => {
    const d = lineDiff('a\nb\nc\nd\ne\nf\ng', 'a\nb\nc\nD\ne\nf\ng', 1);
    expect(d.split('\n')).toEqual([' c', '-d', '+D', ' e']);
  });
  it('is empty for equal texts', () => {
    expect(lineDiff('x\ny', 'x\ny')).toBe('');
  });
});
