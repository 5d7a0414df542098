import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addCoverage, readCoverage, uncovered } from './download-coverage.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-coverage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('download coverage', () => {
  it('subtracts covered ranges on the bar grid', () => {
    expect(uncovered(0, 100, [], 10)).toEqual([[0, 100]]);
    expect(uncovered(0, 100, [[20, 50]], 10)).toEqual([
      [0, 10],
      [60, 100],
    ]);
    expect(uncovered(0, 100, [[0, 100]], 10)).toEqual([]);
    expect(
      uncovered(
        0,
        100,
        [
          [-50, 30],
          [80, 200],
        ],
        10,
      ),
    ).toEqual([[40, 70]]);
  });

  it('merges touching ranges and keeps them across reads; a bad file counts as nothing covered', () => {
    const file = join(dir, 'AAPL_1d.tfb');
    expect(readCoverage(file)).toEqual([]);
    addCoverage(file, 0, 50, 10);
    addCoverage(file, 60, 90, 10);
    addCoverage(file, 200, 300, 10);
    expect(readCoverage(file)).toEqual([
      [0, 90],
      [200, 300],
    ]);
    expect(addCoverage(file, 10, 5, 10)).toEqual(readCoverage(file));
  });
});
