/**
 * Writes market data the way Freqtrade's `download-data` does, for tests: `user_data/data/<exchange>/` with
 * `BTC_USDT-5m.json` (pandas `to_json(orient="values")`: `[[ms, o, h, l, c, v], ...]`) and
 * `BTC_USDT-5m.feather` (pandas `to_feather(compression="lz4")`: an Arrow IPC file with the columns date
 * (timestamp[ns, UTC] by default), open, high, low, close, volume as float64, its buffers LZ4-frame compressed).
 * The LZ4 frames come from a small greedy compressor below, so the reader's match decoding is exercised.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompressionType,
  compressionRegistry,
  Float64,
  makeData,
  RecordBatch,
  Schema,
  Field,
  Struct,
  Table,
  TimeUnit,
  Timestamp,
  tableToIPC,
} from 'apache-arrow';
import type { BarColumns } from '../src/core/bar.js';

/** Compresses `data` into one LZ4 frame (independent blocks of at most 4 MiB, no checksums). */
export function lz4FrameCompress(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73])];
  const BLOCK = 4 << 20;
  for (let at = 0; at < data.length; at += BLOCK) {
    const block = compressBlock(data.subarray(at, Math.min(data.length, at + BLOCK)));
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, block.length, true);
    parts.push(head, block);
  }
  parts.push(new Uint8Array(4));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function compressBlock(src: Uint8Array): Uint8Array {
  const n = src.length;
  const out: number[] = [];
  const table = new Int32Array(1 << 16).fill(-1);
  const read32 = (i: number) => (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)) >>> 0;
  const hash = (v: number) => Math.imul(v, 2654435761) >>> 16;
  const lengthBytes = (len: number) => {
    let l = len - 15;
    while (l >= 255) {
      out.push(255);
      l -= 255;
    }
    out.push(l);
  };
  let anchor = 0;
  let i = 0;
  // The LZ4 format: the last match starts at least 12 bytes before the end; the last 5 bytes are literals.
  const limit = n - 12;
  while (i < limit) {
    const v = read32(i);
    const h = hash(v);
    const ref = table[h];
    table[h] = i;
    if (ref >= 0 && i - ref < 65536 && read32(ref) === v) {
      let len = 4;
      while (i + len < n - 5 && src[ref + len] === src[i + len]) len++;
      const lit = i - anchor;
      const ml = len - 4;
      out.push(((lit >= 15 ? 15 : lit) << 4) | (ml >= 15 ? 15 : ml));
      if (lit >= 15) lengthBytes(lit);
      for (let k = anchor; k < i; k++) out.push(src[k]);
      out.push((i - ref) & 255, (i - ref) >> 8);
      if (ml >= 15) lengthBytes(ml);
      i += len;
      anchor = i;
    } else i++;
  }
  const lit = n - anchor;
  out.push((lit >= 15 ? 15 : lit) << 4);
  if (lit >= 15) lengthBytes(lit);
  for (let k = anchor; k < n; k++) out.push(src[k]);
  return Uint8Array.from(out);
}

/** The file name Freqtrade gives a pair's candles (`BTC/USDT`, `5m`, `json` -> `BTC_USDT-5m.json`). */
export function freqtradeFileName(pair: string, timeframe: string, ext: 'json' | 'feather'): string {
  return `${pair.replace(/[/ .@$+:]/g, '_')}-${timeframe}.${ext}`;
}

/** Writes Freqtrade's JSON candle file. */
export function writeFreqtradeJson(path: string, c: BarColumns): void {
  const rows: number[][] = [];
  for (let i = 0; i < c.length; i++) rows.push([c.time[i], c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]]);
  writeFileSync(path, JSON.stringify(rows));
}

/** Writes Freqtrade's feather candle file (`unit`: the date column's, ns as pandas writes by default). */
export function writeFreqtradeFeather(
  path: string,
  c: BarColumns,
  opts: { unit?: 'ms' | 'us' | 'ns'; compress?: boolean } = {},
): void {
  const unit = opts.unit ?? 'ns';
  const scale = unit === 'ms' ? 1n : unit === 'us' ? 1000n : 1_000_000n;
  const tu = unit === 'ms' ? TimeUnit.MILLISECOND : unit === 'us' ? TimeUnit.MICROSECOND : TimeUnit.NANOSECOND;
  const dates = BigInt64Array.from(c.time, (t) => BigInt(t) * scale);
  const dateType = new Timestamp(tu, 'UTC');
  const fields = [
    new Field('date', dateType, true),
    ...['open', 'high', 'low', 'close', 'volume'].map((k) => new Field(k, new Float64(), true)),
  ];
  const children = [
    makeData({ type: dateType, length: c.length, nullCount: 0, data: dates as unknown as Int32Array }),
    ...(['open', 'high', 'low', 'close', 'volume'] as const).map((k) =>
      makeData({ type: new Float64(), length: c.length, nullCount: 0, data: c[k] }),
    ),
  ];
  const schema = new Schema(fields);
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: c.length, nullCount: 0, children }),
  );
  if (opts.compress !== false) {
    const codec = compressionRegistry.get(CompressionType.LZ4_FRAME);
    compressionRegistry.set(CompressionType.LZ4_FRAME, { ...(codec ?? {}), encode: lz4FrameCompress });
  }
  const bytes = tableToIPC(
    new Table(schema, [batch]),
    'file',
    opts.compress !== false ? CompressionType.LZ4_FRAME : null,
  );
  writeFileSync(path, bytes);
}

/** Makes `user_data/data/<exchange>/` under `root` and returns its path. */
export function freqtradeDataDir(root: string, exchange: string): string {
  const dir = join(root, 'user_data', 'data', exchange);
  mkdirSync(dir, { recursive: true });
  return dir;
}
