/**
 * An append-only column of optional strings kept as small integer codes (a typed array) over a table of the
 * distinct strings. A run's trade reasons and fill tags take a handful of values; a JS array of them grew by
 * reallocation in the runtime and was copied by every young-generation collection while a backtest ran.
 */
export class StringColumn {
  /** Values appended. */
  length = 0;
  // Code by row: -1 for undefined, else an index into `strings`.
  private codes: Int32Array;
  private readonly strings: string[] = [];
  private readonly index = new Map<string, number>();
  // The last string appended and its code: consecutive rows mostly repeat it.
  private lastString: string | undefined = undefined;
  private lastCode = -1;

  constructor(capacity = 1024) {
    this.codes = new Int32Array(Math.max(16, capacity));
  }

  /** Appends one value. */
  push(value: string | undefined): void {
    const k = this.length;
    if (k === this.codes.length) {
      const grown = new Int32Array(k * 2);
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[k] = value === this.lastString ? this.lastCode : this.codeOf(value);
    this.length = k + 1;
  }

  /** The value of row `k` (undefined for a row appended as undefined or past the end). */
  get(k: number): string | undefined {
    if (k < 0 || k >= this.length) return undefined;
    const code = this.codes[k];
    return code < 0 ? undefined : this.strings[code];
  }

  private codeOf(value: string | undefined): number {
    let code = -1;
    if (value !== undefined) {
      const known = this.index.get(value);
      if (known !== undefined) code = known;
      else {
        code = this.strings.length;
        this.strings.push(value);
        this.index.set(value, code);
      }
    }
    this.lastString = value;
    this.lastCode = code;
    return code;
  }
}
