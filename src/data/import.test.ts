import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { CSV_CHUNK_BYTES, parseCsv } from './parse-csv.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../core/index.js';
import { writeCsv } from './export.js';
import { importFile, importText } from './import.js';
import { MarketDataStore } from './store.js';
import { epochToMs, parseTime } from './time-parse.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err;
  }
  throw new Error('expected a DataError');
}

const D1 = Date.UTC(2024, 0, 1);
const D2 = Date.UTC(2024, 0, 2);
const D3 = Date.UTC(2024, 0, 3);

describe('parseTime', () => {
  it('reads ISO dates and datetimes as UTC unless an offset is given', () => {
    expect(parseTime('2024-01-02')).toBe(D2);
    expect(parseTime('2024-01-02T03:04:05')).toBe(D2 + (3 * 3600 + 4 * 60 + 5) * 1000);
    expect(parseTime('2024-01-02 03:04:05Z')).toBe(D2 + (3 * 3600 + 4 * 60 + 5) * 1000);
    expect(parseTime('2024-01-02T03:04:05.250Z')).toBe(D2 + (3 * 3600 + 4 * 60 + 5) * 1000 + 250);
    expect(parseTime('2024-01-02T02:00:00+02:00')).toBe(D2);
    expect(parseTime('2024-01-01T19:00:00-0500')).toBe(D2);
    expect(parseTime('2024/01/02')).toBe(D2);
    // the same day twice, then a time on it (the fast path caches the day)
    expect(parseTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTime('2024-02-29 23:59:59')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(parseTime(' 2024-01-02 ')).toBe(D2);
  });
  it('reads epoch seconds and milliseconds by magnitude', () => {
    expect(parseTime('1704153600')).toBe(D2);
    expect(parseTime('1704153600000')).toBe(D2);
    expect(epochToMs(1704153600000000)).toBe(D2);
  });
  it('rejects impossible dates and text', () => {
    expect(parseTime('2023-02-29')).toBeNaN();
    expect(parseTime('2024-02-30')).toBeNaN();
    expect(parseTime('2024-01-02T24:00:00')).toBeNaN();
    expect(parseTime('2024-01-02T23:60:00Z')).toBeNaN();
    expect(parseTime('2024-01-0x')).toBeNaN();
    expect(parseTime('2024-13-01')).toBeNaN();
    expect(parseTime('yesterday')).toBeNaN();
    expect(parseTime('')).toBeNaN();
  });
});

describe('CSV import', () => {
  it('reads the default header', () => {
    const r = importText('time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1.5,2.5,1,2,20\n');
    expect(r.columns.length).toBe(2);
    expect(Array.from(r.columns.time)).toEqual([D1, D2]);
    expect(Array.from(r.columns.close)).toEqual([1.5, 2]);
    expect(Array.from(r.columns.volume)).toEqual([10, 20]);
    expect(r.timeframe).toBe('1d');
    expect(r.report.clean).toBe(true);
  });

  it.each([
    [',', 'comma'],
    [';', 'semicolon'],
    ['\t', 'tab'],
    ['|', 'pipe'],
  ])('detects the %s delimiter (%s) and maps other column orders and aliases', (d) => {
    const text = [
      ['Close', 'Date', 'Vol', 'H', 'L', 'O'].join(d),
      ['1.5', '2024-01-01', '10', '2', '0.5', '1'].join(d),
      ['2', '2024-01-02', '20', '2.5', '1', '1.5'].join(d),
    ].join('\n');
    const r = importText(text);
    expect(Array.from(r.columns.open)).toEqual([1, 1.5]);
    expect(Array.from(r.columns.high)).toEqual([2, 2.5]);
    expect(Array.from(r.columns.low)).toEqual([0.5, 1]);
    expect(Array.from(r.columns.close)).toEqual([1.5, 2]);
    expect(Array.from(r.columns.volume)).toEqual([10, 20]);
    expect(Array.from(r.columns.time)).toEqual([D1, D2]);
  });

  it('accepts a configured delimiter and column mapping, and decimal commas with ;', () => {
    const r = importText('ts;a;b;c;d\n1704067200;1,5;2,5;1,0;2,0\n1704153600;2;3;1,5;2,5\n', {
      delimiter: ';',
      columns: { time: 'ts', open: 'a', high: 'b', low: 'c', close: 'd' },
    });
    expect(Array.from(r.columns.time)).toEqual([D1, D2]);
    expect(Array.from(r.columns.open)).toEqual([1.5, 2]);
    expect(Array.from(r.columns.volume)).toEqual([0, 0]);
  });

  it('reads headerless ccxt-style rows with epoch ms', () => {
    const r = importText(`${D1},1,2,0.5,1.5,10\n${D2},1.5,2.5,1,2,20\n`);
    expect(Array.from(r.columns.time)).toEqual([D1, D2]);
    expect(r.columns.close[1]).toBe(2);
  });

  it('puts extra numeric columns in extra and text columns in extraText', () => {
    const r = importText(
      'date,open,high,low,close,volume,enter_long,exit_long,enter_tag\n' +
        '2024-01-01,1,2,0.5,1.5,10,1,0,breakout\n' +
        '2024-01-02,1.5,2.5,1,2,20,0,,\n',
    );
    expect(Array.from(r.columns.extra?.enter_long ?? [])).toEqual([1, 0]);
    expect(r.columns.extra?.exit_long[0]).toBe(0);
    expect(r.columns.extra?.exit_long[1]).toBeNaN();
    expect(r.columns.extraText?.enter_tag).toEqual(['breakout', '']);
  });

  it('handles quoted cells, CRLF and a BOM', () => {
    const r = importText(
      '\ufeff"time","open","high","low","close","volume"\r\n"2024-01-01","1","2","0.5","1.5","10"\r\n',
    );
    expect(r.columns.length).toBe(1);
    expect(r.columns.close[0]).toBe(1.5);
  });

  it('reports a missing required column in one line', () => {
    const e = dataError(() => importFile(file('nocl.csv', 'time,open,high,low,volume\n2024-01-01,1,2,0.5,10\n')));
    expect(e.message).toMatch(/nocl\.csv, row 1, column close: missing column close/);
    expect(e.message).not.toContain('\n');
    expect(e.location.column).toBe('close');
  });

  it('reports text in a numeric field with row and column', () => {
    const text = 'time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,abc,0.5,1,5\n';
    const e = dataError(() => importFile(file('text.csv', text)));
    expect(e.message).toMatch(/text\.csv, row 3, column high: "abc" is not a number$/);
    expect(e.location).toMatchObject({ row: 3, column: 'high' });
  });

  it('reports an empty value and a bad time with row and column', () => {
    const e1 = dataError(() => importText('time,open,high,low,close\n2024-01-01,1,2,,1.5\n'));
    expect(e1.location).toMatchObject({ row: 2, column: 'low' });
    const e2 = dataError(() => importText('time,open,high,low,close\nsoon,1,2,0.5,1.5\n'));
    expect(e2.location).toMatchObject({ row: 2, column: 'time' });
  });

  it('reports an empty file and a header without rows', () => {
    expect(dataError(() => importFile(file('empty.csv', ''))).message).toMatch(/empty\.csv: file is empty/);
    expect(dataError(() => importFile(file('blank.csv', '\n \n'))).message).toMatch(/file is empty/);
    expect(dataError(() => importFile(file('head.csv', 'time,open,high,low,close\n'))).message).toMatch(/no data rows/);
  });

  it('rejects unsorted and duplicate times under the default policy, naming row and column', () => {
    const unsorted = 'time,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n2024-01-01,1,2,0.5,1.5\n';
    const e = dataError(() => importFile(file('unsorted.csv', unsorted)));
    expect(e.message).toMatch(/unsorted\.csv, row 3, column time: out-of-order/);
    const dup = 'time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-01,1,2,0.5,1.5\n';
    expect(dataError(() => importText(dup)).location).toMatchObject({ row: 3, column: 'time' });
  });

  it('counts rows by file line even with blank lines', () => {
    const text = 'time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n\n2024-01-02,1,x,0.5,1.5\n';
    expect(dataError(() => importText(text)).location.row).toBe(4);
  });

  it('reports a row with the wrong number of values', () => {
    const e = dataError(() => importText('time,open,high,low,close\n2024-01-01,1,2,0.5\n'));
    expect(e.message).toMatch(/row 2: 4 values but the header has 5 columns/);
  });

  it('reports a missing file and a directory', () => {
    expect(dataError(() => importFile(join(dir, 'nope.csv'))).message).toMatch(/nope\.csv: file not found/);
    expect(dataError(() => importFile(dir)).message).toMatch(/directory/);
  });

  it('reads every row whatever the row lengths (short first row, long later rows, or the reverse), and the columns store and load back', () => {
    const n = 3000;
    const row = (i: number, long: boolean) => {
      const t = new Date(D1 + i * 60_000).toISOString();
      const p = long ? 100 + i / 7 : 100 + (i % 10);
      return `${t},${p},${p + 1},${p - 1},${p},${long ? 1234.5678901234567 : 5}`;
    };
    for (const longFrom of [1, 0]) {
      const lines = Array.from({ length: n }, (_, i) => row(i, longFrom === 1 ? i >= 1 : i < n / 10));
      const r = importFile(file(`rows-${longFrom}.csv`, `time,open,high,low,close,volume\n${lines.join('\n')}\n`));
      expect(r.columns.length).toBe(n);
      for (const col of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
        expect(r.columns[col].length).toBe(n);
      }
      for (let i = 0; i < n; i += 137) {
        const cells = lines[i].split(',');
        expect(r.columns.time[i]).toBe(Date.parse(cells[0]));
        expect([r.columns.open[i], r.columns.close[i], r.columns.volume[i]]).toEqual([
          Number(cells[1]),
          Number(cells[4]),
          Number(cells[5]),
        ]);
      }
      const store = new MarketDataStore(join(dir, `store-${longFrom}`));
      store.write('R', '1m', r.columns);
      const back = store.read('R', '1m');
      expect(back.length).toBe(n);
      expect(Array.from(back.close)).toEqual(Array.from(r.columns.close));
      expect(Array.from(back.time)).toEqual(Array.from(r.columns.time));
    }
  });

  it('applies drop and ffill policies on import', () => {
    const text = 'time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1,0.5,2,1.5\n2024-01-03,1.5,2,1,1.8\n';
    expect(importText(text, { policy: 'drop' }).columns.length).toBe(2);
    const ff = importText(text, { policy: 'ffill' });
    expect(ff.columns.length).toBe(3);
    expect([ff.columns.open[1], ff.columns.high[1], ff.columns.low[1], ff.columns.close[1]]).toEqual([
      1.5, 1.5, 1.5, 1.5,
    ]);
    const none = importText(text, { policy: 'none' });
    expect(none.columns.high[1]).toBe(0.5);
    expect(none.report.issues[0]).toMatchObject({ row: 3, kind: 'high-below-low' });
  });
});

describe('input limits (hostile or corrupt files)', () => {
  const HEADER = 'time,open,high,low,close,volume\n';
  const row = (t: string, o: string, h = '101') => `${t},${o},${h},99,100,1\n`;

  it('accepts decimal numbers only: hex, binary and octal cells are refused', () => {
    for (const cell of ['0x63', '0b1010', '0o17', '0X1F']) {
      const e = dataError(() => importText(`${HEADER}${row('2024-01-01', cell)}${row('2024-01-02', '100')}`));
      expect(e.message).toBe(`row 2, column open: "${cell}" is not a decimal number`);
    }
    // Decimal forms still read: exponent, sign, leading dot, leading zero.
    const ok = importText(
      `${HEADER}${row('2024-01-01', '1e2')}${row('2024-01-02', '+100.0')}${row('2024-01-03', '099.5')}`,
    );
    expect([...ok.columns.open]).toEqual([100, 100, 99.5]);
  });

  it('refuses a price or volume beyond the absolute bound, even where the outlier check would pass it', () => {
    let text = HEADER;
    for (let i = 0; i < 300; i++) {
      const t = new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString();
      text += row(t, '100', i === 150 ? '1e308' : '101');
    }
    const e = dataError(() => importText(text));
    expect(e.message).toMatch(
      /^row 152, column high: out-of-bounds: high is 1e\+308, beyond the absolute bound 1000000000000( \(|$)/,
    );
    // The same series with the bound respected imports.
    expect(importText(text.replace('1e308', '101')).columns.length).toBe(300);
  });

  it('cuts an echoed value to 80 characters and says how long it was', () => {
    const field = `${'9'.repeat(10_000)}x`;
    const e = dataError(() => importText(`${HEADER}2024-01-01,${field},101,99,100,1\n`));
    expect(e.message).toBe(`row 2, column open: "${'9'.repeat(80)}"... (10001 characters) is not a number`);
  });

  it('refuses a line over the length limit before cutting it into cells, and a header over the column limit', () => {
    const long = dataError(() => importText(`${HEADER}2024-01-01,${'9'.repeat(70_000)},1,1,1,1\n`));
    expect(long.message).toBe('row 2: line is 70019 characters long; the limit is 65536');
    const wide = dataError(() => importText(`${Array.from({ length: 2000 }, (_, i) => `c${i}`).join(',')}\n1,2\n`));
    expect(wide.message).toBe('row 1: 2000 columns; the limit is 1024');
    const json = JSON.stringify([Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]))]);
    expect(dataError(() => importText(json)).message).toBe('row 1: 2000 fields in a bar; the limit is 1024');
  });

  it('never prints the first line of a file that is not market data', () => {
    const secret = 'root:$6$saltsalt$hashhashhash:19000:0:99999:7:::';
    const e = dataError(() => importFile(file('shadow', `${secret}\ndaemon:*:19000:0:99999:7:::\n`)));
    expect(e.message).not.toContain('root');
    expect(e.message).not.toContain('hash');
    expect(e.message).toMatch(/missing column time \(the first line is not a header of market data columns/);
    // A real header with a missing column is still shown, to help.
    const h = dataError(() => importText('date,o,h,l\n2024-01-01,1,2,0\n'));
    expect(h.message).toMatch(/missing column close \(header: date, o, h, l\)/);
  });
});

describe('CSV export', () => {
  it('round-trips through writeCsv with full precision and extra columns', () => {
    const src = importText(
      'time,open,high,low,close,volume,sig,tag\n' +
        '2024-01-01T00:00:00Z,0.1,0.30000000000000004,0.05,0.2,1e-7,1,"a,b"\n' +
        '2024-01-01T00:01:00Z,0.2,0.3,0.1,0.25,2,,x\n',
    ).columns;
    const text = writeCsv(src);
    expect(text.split('\n')[0]).toBe('time,open,high,low,close,volume,sig,tag');
    const back = importText(text).columns;
    expect(Array.from(back.high)).toEqual(Array.from(src.high));
    expect(Array.from(back.time)).toEqual(Array.from(src.time));
    expect(back.volume[0]).toBe(1e-7);
    expect(back.extra?.sig[1]).toBeNaN();
    expect(back.extraText?.tag).toEqual(['a,b', 'x']);
  });
});

describe('JSON import', () => {
  it('reads an array of objects', () => {
    const r = importFile(
      file(
        'objs.json',
        JSON.stringify([
          { date: '2024-01-01', open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, signal: 1 },
          { date: '2024-01-02', open: 1.5, high: 2.5, low: 1, close: 2, volume: 20, signal: 0 },
        ]),
      ),
    );
    expect(Array.from(r.columns.time)).toEqual([D1, D2]);
    expect(Array.from(r.columns.extra?.signal ?? [])).toEqual([1, 0]);
  });

  it('reads ccxt-style arrays, wrapped in {data}, detected by content', () => {
    const rows = [
      [D1, 1, 2, 0.5, 1.5, 10],
      [D2, 1.5, 2.5, 1, 2, 20],
      [D3, 2, 3, 1.5, 2.5, 30],
    ];
    const r = importFile(file('wrapped.txt', JSON.stringify({ data: rows })));
    expect(r.columns.length).toBe(3);
    expect(r.columns.close[2]).toBe(2.5);
    expect(r.timeframe).toBe('1d');
  });

  it('names the element and field of a bad value', () => {
    const bad = JSON.stringify([
      { time: D1, open: 1, high: 2, low: 0.5, close: 1.5 },
      { time: D2, open: 1, high: 'abc', low: 0.5, close: 1.5 },
    ]);
    expect(dataError(() => importText(bad)).message).toMatch(/row 2, column high: "abc" is not a number/);
    expect(dataError(() => importText('[{"time": 1, "open": 1}]')).message).toMatch(/missing column high/);
    expect(dataError(() => importText('{"x": 1}')).message).toMatch(/expected an array/);
    expect(dataError(() => importFile(file('broken.json', '[1,'))).message).toMatch(/broken\.json: not valid JSON/);
  });
});

describe('CSV fast path', () => {
  it('reads the same columns and row numbers as the general loop (CRLF, blank lines, spaces, no header)', () => {
    const body =
      '2020-01-01T00:00:00Z,1,2,0.5,1.5,10\r\n\r\n2020-01-01T00:01:00Z, 1.5 ,2.5,1,2,11\r\n1577837040000,2,3,1.5,2.5,12\r\n';
    const plain = parseCsv(`time,open,high,low,close,volume\r\n${body}`);
    // A quote anywhere sends the whole file through the general loop.
    const general = parseCsv(`"time",open,high,low,close,volume\r\n${body}`);
    expect(plain.columns).toEqual(general.columns);
    expect(Array.from(plain.rowNumbers)).toEqual([2, 4, 5]);
    expect(Array.from(plain.rowNumbers)).toEqual(Array.from(general.rowNumbers));
    const noHeader = parseCsv(body);
    expect(noHeader.columns.close).toEqual(plain.columns.close);
    expect(Array.from(noHeader.rowNumbers)).toEqual([1, 3, 4]);
  });

  it("an irregular row still gets the general loop's message (file, row, column)", () => {
    const text = 'time,open,high,low,close,volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1,,0.5,1.5,10\n';
    expect(() => parseCsv(text, {}, 'x.csv')).toThrow('x.csv, row 3, column high: empty value (a number is required)');
    for (const cell of ['0x10', ' 0b11', ' ']) {
      const bad = `time,open,high,low,close,volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1,${cell},0.5,1.5,10\n`;
      expect(() => parseCsv(bad, {}, 'y.csv')).toThrow(/y\.csv, row 3, column high: /);
    }
  });

  it('reads the same columns from the file bytes as from the text (17-digit prices, signs, zeros, CRLF, spaces)', () => {
    const rows = [
      '2020-01-01T00:00:00Z,100.00224501156836,100.03159277516258,-0.000123,0099.5,1489.8918488602885',
      '',
      '2020-01-01T00:01:00Z, 1.5 ,2.5,1,2,11',
      '2020-01-01 00:02:00,12345678901234567,1e3,0.30000000000000004,-0,0.0',
      '1577837040000,2,3,1.5,2.5,12',
    ];
    const text = `time,open,high,low,close,volume\r\n${rows.join('\r\n')}\r\n`;
    const viaText = parseCsv(text);
    const viaBytes = parseCsv(text, {}, undefined, Buffer.from(text, 'latin1'));
    expect(viaBytes.columns).toEqual(viaText.columns);
    expect(Array.from(viaBytes.rowNumbers)).toEqual(Array.from(viaText.rowNumbers));
    expect(Object.is(viaBytes.columns.close[2], -0)).toBe(true);
    expect(viaBytes.columns.open[0]).toBe(100.00224501156836);
    // importFile hands the bytes of an ASCII file to the reader: the same result again.
    expect(importFile(file('bytes.csv', text), { policy: 'none' }).columns).toEqual(
      importText(text, { policy: 'none' }).columns,
    );
  });

  it("an irregular cell read from the bytes still gets the general loop's message (file, row, column)", () => {
    for (const [cell, why] of [
      ['', 'empty value (a number is required)'],
      ['0x10', '"0x10" is not a decimal number'],
      ['1.2.3', '"1.2.3" is not a number'],
      ['12a', '"12a" is not a number'],
      ['-', '"-" is not a number'],
    ]) {
      const bad = `time,open,high,low,close,volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1,${cell},0.5,1.5,10\n`;
      const p = file('bad-bytes.csv', bad);
      expect(dataError(() => importFile(p)).message).toBe(`${p}, row 3, column high: ${why}`);
    }
    const short = file('short.csv', 'time,open,high,low,close,volume\n2020-01-01,1,2,0.5,1.5\n');
    expect(dataError(() => importFile(short)).message).toBe(`${short}, row 2: 5 values but the header has 6 columns`);
  });
});

describe('importFile reads the common CSV from its bytes, with the result of reading its text', () => {
  const header = 'time,open,high,low,close,volume';
  const rows = [
    '2024-01-01T00:00:00Z,100.5,101.25,99.75,100.00000000000001,1489.8918488602885',
    '2024-01-01T00:01:00Z,99.99738356148043,100.03159277516258,99.99199473006928,100.00973555812372,0',
    '2024-01-01T00:02:00Z,1e2,100.5,99.5,100,12',
  ];
  const shapes: Record<string, string> = {
    plain: [header, ...rows].join('\n'),
    crlf: `${[header, ...rows].join('\r\n')}\r\n`,
    'blank lines': `\n\n${header}\n${rows[0]}\n\n${rows[1]}\n   \n${rows[2]}\n`,
    'stray carriage return': `${header}\n${rows[0]}\r\r\n${rows[1]}\n`,
    'no header': rows.join('\n'),
    'epoch seconds': `${header}\n1704067200,1,2,0.5,1.5,10\n1704067260,1.5,2,1,1.25,11\n`,
    'spaces in cells': `${header}\n2024-01-01, 1 ,2,0.5 ,1.5,10\n2024-01-02,1,2,0.5,1.5, 11\n`,
    semicolons: `time;open;high;low;close;volume\n2024-01-01;1;2;0.5;1.5;10\n2024-01-02;1;2;0.5;1.5;11\n`,
    'non-ASCII in an unread column': `${header},note\n2024-01-01,1,2,0.5,1.5,10,café\n2024-01-02,1,2,0.5,1.5,11,ok\n`,
    'no volume': 'time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1,2,0.5,1.5\n',
    'no final newline, one row': `${header}\n${rows[0]}`,
    'a NBSP after a number': `${header}\n2024-01-01,1,2,0.5,1.5\u00a0,10\n`,
  };
  for (const [name, text] of Object.entries(shapes)) {
    it(name, () => {
      const p = file(`shape-${name.replace(/\W/g, '-')}.csv`, text);
      const fromFile = importFile(p, { policy: 'none' });
      const fromText = importText(text, { policy: 'none', format: 'csv' }, p);
      expect(fromFile.columns).toEqual(fromText.columns);
      expect(fromFile.report).toEqual(fromText.report);
    });
  }

  it("gives the text reader's result or error for a quoted or malformed file", () => {
    const outcome = (fn: () => { columns: unknown }): unknown => {
      try {
        return fn().columns;
      } catch (err) {
        return dataError(() => {
          throw err;
        }).message;
      }
    };
    const texts = [
      `${header}\n"2024-01-01",1,2,0.5,1.5,10\n`,
      `${header}\n2024-01-01,1,2,0.5,x,10\n`,
      `${header}\n2024-01-01,1,2,0.5,,10\n`,
      `${header}\n2024-01-01,1,2,0.5,1.5\n`,
    ];
    for (const text of texts) {
      const p = file('odd.csv', text);
      const fromFile = outcome(() => importFile(p));
      expect(fromFile).toEqual(outcome(() => importText(text, {}, p)));
    }
    expect(typeof outcome(() => importFile(file('odd.csv', texts[1])))).toBe('string');
  });

  it("grows its columns past the first row's estimate", () => {
    const long = `${header}\n2024-01-01T00:00:00Z,100.123456789,101.123456789,99.123456789,100.123456789,1000.123456789\n`;
    const short = Array.from({ length: 500 }, (_, i) => `${1704067200 + 60 * (i + 1)},1,2,0,1,1`).join('\n');
    const text = long + short;
    const fromFile = importFile(file('grow.csv', text), { policy: 'none' });
    expect(fromFile.columns.length).toBe(501);
    expect(fromFile.columns).toEqual(importText(text, { policy: 'none', format: 'csv' }).columns);
  });
});

describe('importFile reads a large CSV in chunks into one buffer', () => {
  const header = 'time,open,high,low,close,volume';
  // Rows of varying length, so chunk ends fall at every kind of place in a row.
  const rows = (count: number, eol: string): string[] =>
    Array.from({ length: count }, (_, i) => {
      const p = 100 + ((i * 7919) % 1000) / 7;
      return `${new Date(D1 + i * 60_000).toISOString()},${p},${p + 1.25},${p - 0.5},${p + i / 3},${i % 13}${eol}`;
    });
  const same = (text: string, p: string): void => {
    const fromFile = importFile(p, { policy: 'none' });
    const fromText = importText(text, { policy: 'none', format: 'csv' }, p);
    expect(fromFile.columns).toEqual(fromText.columns);
    expect(fromFile.report).toEqual(fromText.report);
  };

  it('reads rows cut by a chunk end, LF and CRLF, with the result of reading the text', () => {
    for (const eol of ['\n', '\r\n']) {
      const text = `${header}${eol}${rows(25_000, eol).join('')}`;
      expect(text.length).toBeGreaterThan(2 * CSV_CHUNK_BYTES);
      same(text, file(`chunks-${eol.length}.csv`, text));
    }
  });

  it('reads a CRLF row whose \\r ends one chunk and \\n starts the next', () => {
    const body = rows(20_000, '\r\n');
    const head = `${header}\r\n`;
    // The last row wholly in the first chunk gets its open written with trailing zeros (same value) until its \r is
    // the chunk's last byte.
    let at = head.length;
    let k = 0;
    while (at + body[k].length <= CSV_CHUNK_BYTES) at += body[k++].length;
    // at: the start of row k, so row k - 1's \r is at at - 2.
    const pad = CSV_CHUNK_BYTES + 1 - at;
    const cells = body[k - 1].split(',');
    cells[1] = `${cells[1]}${cells[1].includes('.') ? '' : '.'}${'0'.repeat(pad)}`;
    body[k - 1] = cells.join(',');
    const text = head + body.join('');
    expect(text.charCodeAt(CSV_CHUNK_BYTES - 1)).toBe(13);
    expect(text.charCodeAt(CSV_CHUNK_BYTES)).toBe(10);
    same(text, file('cut-crlf.csv', text));
  });

  it('gives the text reader its result when an irregular row lies after the first chunk', () => {
    const body = rows(30_000, '\n');
    body[25_000] = body[25_000].replace(/^([^,]*),/, '"$1",');
    const text = `${header}\n${body.join('')}`;
    same(text, file('late-quote.csv', text));
    const bad = `${header}\n${rows(30_000, '\n').join('')}2024-12-01,1,2,x,1,1\n`;
    expect(dataError(() => importFile(file('late-bad.csv', bad))).message).toMatch(/row 30002, column low/);
  });

  it('reads from a FIFO, through the chunked reader and through the fallback when it gives up', async () => {
    const plain = `${header}\n${rows(30_000, '\n').join('')}`;
    const body = rows(30_000, '\n');
    body[29_000] = body[29_000].replace(/^([^,]*),/, '"$1",');
    const quoted = `${header}\n${body.join('')}`;
    for (const [name, text] of [
      ['plain', plain],
      ['quoted', quoted],
    ] as const) {
      const src = file(`fifo-src-${name}.csv`, text);
      const fifo = join(dir, `fifo-${name}`);
      execFileSync('mkfifo', [fifo]);
      // The writer runs in another process: opening the FIFO blocks this one until the writer opens its end.
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', src, fifo], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
      const fromFifo = importFile(fifo, { policy: 'none', format: 'csv' });
      expect(await exited).toBe(0);
      expect(fromFifo.columns).toEqual(importFile(src, { policy: 'none' }).columns);
      expect(fromFifo.columns.length).toBe(30_000);
    }
  });
});
