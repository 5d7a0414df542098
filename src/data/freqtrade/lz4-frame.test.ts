import { describe, expect, it } from 'vitest';
import { lz4FrameCompress } from '../../../test/freqtrade-fixtures.js';
import { DataError } from '../../core/errors.js';
import { decodeLz4Frame } from './lz4-frame.js';

function sample(n: number): Uint8Array {
  // Repeating patterns (matches, overlapping ones) with noise (literals), like a column of candles.
  const out = new Uint8Array(n);
  let x = 7;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 97 < 60 ? (i * 3) & 0xff : x >>> 24;
  }
  return out;
}

describe('decodeLz4Frame', () => {
  it.each([0, 1, 13, 300, 70_000, 200_000])('round-trips %i bytes through a compressed frame', (n) => {
    const data = sample(n);
    const frame = lz4FrameCompress(data);
    if (n >= 70_000) expect(frame.length).toBeLessThan(n * 0.8);
    expect(decodeLz4Frame(frame)).toEqual(data);
  });

  it('reads a stored (uncompressed) block, a content size and a run-length match (offset 1)', () => {
    const stored = Uint8Array.from([1, 2, 3, 4, 5]);
    // FLG 0x68: version 1, independent blocks, content size present; BD 0x40; 8-byte size; HC.
    const head = [0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 5, 0, 0, 0, 0, 0, 0, 0, 0x00];
    const frame = Uint8Array.from([...head, 5, 0, 0, 0x80, ...stored, 0, 0, 0, 0]);
    expect(decodeLz4Frame(frame)).toEqual(stored);
    // One literal 'a' then a match of 9 at offset 1 ('aaaaaaaaa'), then 5 literal bytes.
    const block = [0x15, 0x61, 1, 0, 0x50, 0x62, 0x62, 0x62, 0x62, 0x62];
    const f2 = Uint8Array.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x00, block.length, 0, 0, 0, ...block, 0, 0, 0, 0]);
    expect(Buffer.from(decodeLz4Frame(f2)).toString()).toBe('aaaaaaaaaabbbbb');
  });

  it('refuses data that is not an LZ4 frame, naming the file', () => {
    expect(() => decodeLz4Frame(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 0, 'x.feather')).toThrow(DataError);
    expect(() => decodeLz4Frame(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 0, 'x.feather')).toThrow(/x\.feather/);
  });
});
