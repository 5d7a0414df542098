import { readFileSync } from 'node:fs';
import { CompressionType, compressionRegistry, tableFromIPC, TimeUnit, type Vector } from 'apache-arrow';
import type { BarColumns } from '../../core/bar.js';
import { DataError } from '../../core/errors.js';
import { decodeLz4Frame } from './lz4-frame.js';

const PRICE_COLUMNS = ['open', 'high', 'low', 'close', 'volume'] as const;

// Freqtrade writes feather with LZ4 (pandas `to_feather(compression="lz4")`); apache-arrow decodes a compressed
// buffer only through a codec in its registry. Ours is set before each read, keeping an encoder someone else set.
function registerLz4(): void {
  const current = compressionRegistry.get(CompressionType.LZ4_FRAME);
  if (current?.decode === decodeLz4) return;
  compressionRegistry.set(CompressionType.LZ4_FRAME, { ...(current ?? {}), decode: decodeLz4 });
}

function decodeLz4(d: Uint8Array): Uint8Array {
  return decodeLz4Frame(d);
}

function timeColumn(v: Vector, file: string): Float64Array {
  const unit = (v.type as { unit?: number }).unit;
  if (unit === undefined) throw new DataError(`column "date" is ${String(v.type)}, expected a timestamp`, { file });
  // date is timestamp[s|ms|us|ns, UTC] (pandas writes ns by default); we store epoch ms.
  const perMs =
    unit === TimeUnit.SECOND ? 1e-3 : unit === TimeUnit.MILLISECOND ? 1 : unit === TimeUnit.MICROSECOND ? 1e3 : 1e6;
  const out = new Float64Array(v.length);
  let i = 0;
  for (const chunk of v.data) {
    const values = chunk.values as unknown;
    if (!(values instanceof BigInt64Array)) {
      throw new DataError('column "date" has no 64-bit timestamps', { file, column: 'date' });
    }
    for (let k = 0; k < chunk.length; k++) out[i++] = Math.round(Number(values[chunk.offset + k]) / perMs);
  }
  return out;
}

/**
 * Reads a Freqtrade feather candle file (an Arrow IPC file, LZ4 compressed or not): the columns `date`
 * (timestamp, UTC) and `open`, `high`, `low`, `close`, `volume` (float64). Errors are one-line DataErrors naming the
 * file and the column.
 */
export function readFreqtradeFeather(path: string): BarColumns {
  registerLz4();
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'file not found' : `cannot read (${code})`, { file: path });
  }
  let table: ReturnType<typeof tableFromIPC>;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new DataError(`not a readable Arrow/feather file (${(err as Error).message.split('\n')[0]})`, {
      file: path,
    });
  }
  const date = table.getChild('date');
  if (date === null) throw new DataError('no "date" column (not a Freqtrade candle file)', { file: path });
  const price: Record<string, Float64Array> = {};
  for (const name of PRICE_COLUMNS) {
    const v = table.getChild(name);
    if (v === null) throw new DataError(`no "${name}" column`, { file: path, column: name });
    if (v.nullCount > 0) throw new DataError(`${v.nullCount} empty values`, { file: path, column: name });
    price[name] = Float64Array.from(v.toArray() as ArrayLike<number>, Number);
  }
  return {
    length: table.numRows,
    time: timeColumn(date, path),
    open: price.open,
    high: price.high,
    low: price.low,
    close: price.close,
    volume: price.volume,
  };
}
