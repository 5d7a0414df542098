/**
 * The largest single allocation a sandboxed strategy may ask for, in elements of an array and bytes of a buffer
 * or string. A worker's heap cap (`resourceLimits`) ends the worker when its heap fills up gradually, but V8
 * gives a worker only 16 MB of headroom past the cap to finish: one allocation larger than that, made near the
 * cap, is a fatal out-of-memory error of the whole process. So no single allocation may come near 16 MB.
 */
export const MAX_ALLOCATION = { elements: 1_500_000, bytes: 12 * 1024 * 1024 } as const;

/**
 * Evaluated inside a sandbox context before the SDK: replaces the context's own allocating constructors and
 * methods (Array, Array.from, typed arrays, ArrayBuffer, String#repeat/padStart/padEnd) with versions that
 * refuse a single allocation above MAX_ALLOCATION with a RangeError. Everything else about them is unchanged
 * (`instanceof`, statics, prototypes).
 */
export const ALLOCATION_BOUNDS_SOURCE = `(function () {
'use strict';
const MAX_N = ${MAX_ALLOCATION.elements}, MAX_B = ${MAX_ALLOCATION.bytes};
const g = this;
const tooBig = (what, n) => new RangeError(what + ' of ' + n + ' is larger than a strategy may allocate at once');
const A = g.Array;
function Array(...args) {
  if (args.length === 1 && typeof args[0] === 'number' && args[0] > MAX_N) throw tooBig('an array', args[0]);
  return Reflect.construct(A, args, new.target === undefined ? A : new.target);
}
Object.setPrototypeOf(Array, A);
Object.defineProperty(Array, 'prototype', { value: A.prototype });
const from = A.from;
Array.from = function (items, ...rest) {
  const n = items === null || items === undefined ? 0 : Number(items.length);
  if (n > MAX_N) throw tooBig('an array', n);
  return Reflect.apply(from, this === Array ? A : this, [items, ...rest]);
};
g.Array = Array;
const sizeOf = (x, per) => (typeof x === 'number' ? x * per : x !== null && typeof x === 'object' && typeof x.length === 'number' && !(x instanceof g.ArrayBuffer) ? x.length * per : 0);
for (const name of ['Float64Array', 'Float32Array', 'Int32Array', 'Uint32Array', 'Int16Array', 'Uint16Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer']) {
  const T = g[name];
  if (typeof T !== 'function') continue;
  const per = T.BYTES_PER_ELEMENT || 1;
  const Bounded = function (...args) {
    const bytes = sizeOf(args[0], per);
    if (bytes > MAX_B) throw tooBig('a ' + name + ' of ' + bytes + ' bytes', '');
    if (new.target === undefined) throw new TypeError('Constructor ' + name + " requires 'new'");
    return Reflect.construct(T, args, new.target === Bounded ? T : new.target);
  };
  Object.setPrototypeOf(Bounded, T);
  Object.defineProperty(Bounded, 'prototype', { value: T.prototype });
  Object.defineProperty(Bounded, 'name', { value: name });
  g[name] = Bounded;
}
const S = g.String.prototype;
const repeat = S.repeat, padStart = S.padStart, padEnd = S.padEnd;
const textBound = (n) => { if (Number(n) * 2 > MAX_B) throw tooBig('a string', n); };
Object.defineProperty(S, 'repeat', { value: function (count) { textBound(String(this).length * Number(count)); return Reflect.apply(repeat, this, [count]); }, writable: true, configurable: true });
Object.defineProperty(S, 'padStart', { value: function (n, f) { textBound(n); return Reflect.apply(padStart, this, [n, f]); }, writable: true, configurable: true });
Object.defineProperty(S, 'padEnd', { value: function (n, f) { textBound(n); return Reflect.apply(padEnd, this, [n, f]); }, writable: true, configurable: true });
})`;
