import { type BarColumns, DataError } from '../core/index.js';
import { echoValue } from '../core/errors.js';

/** Columns as read from a file plus the file row of each index (for messages). */
export interface ParsedBars {
  columns: BarColumns;
  rowNumbers: Int32Array;
}

const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;

/** Parses a numeric cell strictly: empty, text and non-finite values are errors naming row and column. */
export function parseNumberCell(
  cell: string,
  decimalComma: boolean,
  file: string | undefined,
  row: number,
  column: string,
): number {
  const s = cell.trim();
  const v = Number(s);
  if (s.length > 0 && Number.isFinite(v)) {
    if (isRadixLiteral(s)) throw new DataError(`${echoValue(s)} is not a decimal number`, { file, row, column });
    return v;
  }
  const raw = s.replace(/^"|"$/g, '');
  if (raw !== s) return parseNumberCell(raw, decimalComma, file, row, column);
  if (decimalComma && DECIMAL_COMMA.test(s)) return Number(s.replace(',', '.'));
  if (s.length === 0) throw new DataError('empty value (a number is required)', { file, row, column });
  throw new DataError(`${echoValue(s)} is not a number`, { file, row, column });
}

/**
 * True for `0x63`, `0b1010`, `0o17`: `Number()` reads them, but market data is decimal and such a cell is a corrupt
 * or hostile file. Checked only on cells `Number()` accepted, by their first two characters, so it costs nothing.
 */
export function isRadixLiteral(s: string): boolean {
  if (s.length < 3 || s.charCodeAt(0) !== 48) return false;
  const c = s.charCodeAt(1) | 0x20;
  return c === 120 || c === 98 || c === 111;
}

/** Turns raw extra cells into numeric columns (all cells numbers or empty -> NaN) or text columns. */
export function buildExtras(
  names: readonly string[],
  raw: readonly string[][],
  decimalComma: boolean,
): Pick<BarColumns, 'extra' | 'extraText'> {
  const extra: Record<string, Float64Array> = {};
  const extraText: Record<string, string[]> = {};
  names.forEach((name, e) => {
    const cells = raw[e];
    const nums = new Float64Array(cells.length);
    let numeric = true;
    for (let i = 0; i < cells.length; i++) {
      const s = cells[i].trim();
      if (s.length === 0) {
        nums[i] = Number.NaN;
        continue;
      }
      let v = isRadixLiteral(s) ? Number.NaN : Number(s);
      if (Number.isNaN(v) && decimalComma && DECIMAL_COMMA.test(s)) v = Number(s.replace(',', '.'));
      if (Number.isNaN(v)) {
        numeric = false;
        break;
      }
      nums[i] = v;
    }
    if (numeric) extra[name] = nums;
    else extraText[name] = cells;
  });
  return {
    ...(Object.keys(extra).length ? { extra } : {}),
    ...(Object.keys(extraText).length ? { extraText } : {}),
  };
}
