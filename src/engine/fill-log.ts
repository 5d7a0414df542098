import type { FillRecord, Liquidity } from '../core/fill.js';
import type { OrderSide, OrderType } from '../core/order.js';
import { StringColumn } from './string-column.js';

const ORDER_TYPES: readonly OrderType[] = ['market', 'limit', 'stop', 'stop_limit'];

/**
 * Every fill of a run kept in columns (typed arrays grown by doubling), so recording a fill allocates nothing
 * and leaves nothing for the garbage collector to copy while a backtest runs. The `FillRecord` objects a result
 * lists are built once, when they are first read (`records()`).
 */
export class FillLog {
  /** Fills recorded. */
  length = 0;
  private time: Float64Array;
  private price: Float64Array;
  private quantity: Float64Array;
  private fee: Float64Array;
  private symbolIndex: Int32Array;
  /** Bit 0: sell; bit 1: maker; bits 2-3: the order type's index in ORDER_TYPES. */
  private flags: Uint8Array;
  /** Tag by row (undefined: none). */
  private readonly tags = new StringColumn();
  private built: FillRecord[] | null = null;

  constructor(
    private readonly symbols: readonly string[],
    capacity = 1024,
  ) {
    const cap = Math.max(16, capacity);
    this.time = new Float64Array(cap);
    this.price = new Float64Array(cap);
    this.quantity = new Float64Array(cap);
    this.fee = new Float64Array(cap);
    this.symbolIndex = new Int32Array(cap);
    this.flags = new Uint8Array(cap);
  }

  /** Appends one fill of symbol index `s`. */
  push(
    time: number,
    s: number,
    side: OrderSide,
    price: number,
    quantity: number,
    fee: number,
    orderType: OrderType,
    tag: string | undefined,
    liquidity: Liquidity,
  ): void {
    const k = this.length;
    if (k === this.time.length) this.grow();
    this.time[k] = time;
    this.price[k] = price;
    this.quantity[k] = quantity;
    this.fee[k] = fee;
    this.symbolIndex[k] = s;
    const type = orderType === 'limit' ? 1 : orderType === 'stop' ? 2 : orderType === 'stop_limit' ? 3 : 0;
    this.flags[k] = (side === 'sell' ? 1 : 0) | (liquidity === 'maker' ? 2 : 0) | (type << 2);
    this.tags.push(tag);
    this.length = k + 1;
    this.built = null;
  }

  /** The fills as records, in execution order (built on the first call after a change, then the same array). */
  /** Calls `fn` with each fill's symbol index, side (+1 buy, −1 sell), quantity, price and fee, in order. */
  replay(fn: (s: number, sideSign: 1 | -1, quantity: number, price: number, fee: number) => void): void {
    for (let k = 0; k < this.length; k++)
      fn(this.symbolIndex[k], (this.flags[k] & 1) === 1 ? -1 : 1, this.quantity[k], this.price[k], this.fee[k]);
  }

  records(): FillRecord[] {
    if (this.built !== null && this.built.length === this.length) return this.built;
    const out: FillRecord[] = new Array(this.length);
    for (let k = 0; k < this.length; k++) {
      const f = this.flags[k];
      out[k] = {
        time: this.time[k],
        symbol: this.symbols[this.symbolIndex[k]],
        side: (f & 1) === 1 ? 'sell' : 'buy',
        price: this.price[k],
        quantity: this.quantity[k],
        fee: this.fee[k],
        orderType: ORDER_TYPES[(f >> 2) & 3],
        tag: this.tags.get(k) ?? null,
        liquidity: (f & 2) === 2 ? 'maker' : 'taker',
      };
    }
    this.built = out;
    return out;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.time = f64(this.time);
    this.price = f64(this.price);
    this.quantity = f64(this.quantity);
    this.fee = f64(this.fee);
    const si = new Int32Array(cap);
    si.set(this.symbolIndex);
    this.symbolIndex = si;
    const fl = new Uint8Array(cap);
    fl.set(this.flags);
    this.flags = fl;
  }
}
