import { DataError } from '../../core/errors.js';

const MAGIC = 0x184d2204;

/**
 * Decodes an LZ4 frame (the codec Arrow IPC files use for `compression="lz4"`, Freqtrade's feather default):
 * header flags, blocks compressed or stored, optional block and content checksums (skipped, not verified), and
 * dependent blocks (matches may reach back into earlier blocks, so everything decodes into one buffer).
 * `sizeHint` is the decoded length when the caller knows it (Arrow stores it before each buffer).
 */
export function decodeLz4Frame(src: Uint8Array, sizeHint = 0, file?: string): Uint8Array {
  const bad = (why: string): never => {
    throw new DataError(`LZ4 data is corrupt (${why})`, file ? { file } : {});
  };
  if (src.length < 7) bad('too short');
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (view.getUint32(0, true) !== MAGIC) bad('no LZ4 frame magic');
  const flg = src[4];
  if (flg >> 6 !== 1) bad('unknown frame version');
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  let ip = 6;
  let capacity = sizeHint > 0 ? sizeHint : src.length * 4;
  if (hasContentSize) {
    capacity = Number(view.getBigUint64(ip, true));
    ip += 8;
  }
  if (hasDictId) ip += 4;
  ip++; // header checksum
  let out = new Uint8Array(Math.max(16, capacity));
  let op = 0;
  // Room for n more bytes after the first `at` (grows the buffer, keeping what was decoded).
  const ensure = (at: number, n: number) => {
    if (at + n <= out.length) return;
    const next = new Uint8Array(Math.max(out.length * 2, at + n));
    next.set(out.subarray(0, at));
    out = next;
  };
  for (;;) {
    if (ip + 4 > src.length) bad('truncated block header');
    const word = view.getUint32(ip, true);
    ip += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (ip + size > src.length) bad('truncated block');
    if ((word & 0x80000000) !== 0) {
      ensure(op, size);
      out.set(src.subarray(ip, ip + size), op);
      op += size;
    } else {
      op = decodeBlock(src, ip, ip + size, op, ensure, () => out, bad);
    }
    ip += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) ip += 4;
  return out.subarray(0, op);
}

// One LZ4 block from src[ip, end) appended at `op`; returns the new output length.
function decodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  op0: number,
  ensure: (at: number, n: number) => void,
  buffer: () => Uint8Array,
  bad: (why: string) => never,
): number {
  let ip = start;
  let op = op0;
  while (ip < end) {
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        b = src[ip++];
        lit += b;
      } while (b === 255 && ip < end);
    }
    if (ip + lit > end) bad('literals run past the block');
    ensure(op, lit);
    buffer().set(src.subarray(ip, ip + lit), op);
    ip += lit;
    op += lit;
    if (ip >= end) break;
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) bad('match offset out of range');
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        b = src[ip++];
        len += b;
      } while (b === 255 && ip < end);
    }
    len += 4;
    ensure(op, len);
    const out = buffer();
    // Byte by byte: a match may overlap the bytes it is producing (offset < length repeats a pattern).
    for (let k = 0; k < len; k++, op++) out[op] = out[op - offset];
  }
  return op;
}
