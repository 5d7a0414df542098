import { describe, expect, it } from 'vitest';
import { StringColumn } from './string-column.js';

describe('StringColumn', () => {
  it('gives back every appended value in order, undefined included, across growth', () => {
    const col = new StringColumn(16);
    const values: (string | undefined)[] = [];
    for (let i = 0; i < 1000; i++) {
      const v = i % 7 === 0 ? undefined : i % 3 === 0 ? 'exit_signal' : i % 5 === 0 ? `tag${i % 4}` : 'roi';
      values.push(v);
      col.push(v);
    }
    expect(col.length).toBe(1000);
    expect(Array.from({ length: 1000 }, (_, k) => col.get(k))).toEqual(values);
  });

  it('answers undefined outside the appended rows', () => {
    const col = new StringColumn();
    col.push('a');
    expect(col.get(-1)).toBeUndefined();
    expect(col.get(1)).toBeUndefined();
    expect(col.get(0)).toBe('a');
  });
});
