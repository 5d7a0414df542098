import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Options of a size-rotated log file. */
export interface RotatingFileOptions {
  /** Path of the active file, e.g. `~/.tradeforge/logs/tradeforge.log`. */
  file: string;
  /** Rotate before a write would take the active file beyond this many bytes. */
  maxBytes: number;
  /** Rotated files kept (`file.1` newest ... `file.N` oldest); older ones are deleted. */
  maxFiles: number;
  /**
   * Batch lines and write them once per event-loop turn instead of one write per line (fewer syscalls on the order
   * path). A hard crash can then lose the last turn's lines; default false (every line on disk).
   */
  buffered?: boolean;
}

/**
 * A pino destination that appends to `file` and rotates it by size: `file` -> `file.1` -> ... -> `file.N`.
 * Writes are synchronous so the last lines before a crash (or `kill -9`) are on disk, and a line is never split
 * across two files.
 */
export class RotatingFileStream {
  private fd: number;
  private size: number;
  private closed = false;
  readonly file: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly buffered: boolean;
  private pending: string[] = [];
  private flushScheduled = false;

  constructor(options: RotatingFileOptions) {
    if (!(options.maxBytes > 0)) throw new RangeError(`log.maxBytes must be positive, got ${options.maxBytes}`);
    if (!(options.maxFiles >= 1)) throw new RangeError(`log.maxFiles must be at least 1, got ${options.maxFiles}`);
    this.file = options.file;
    this.maxBytes = options.maxBytes;
    this.maxFiles = Math.floor(options.maxFiles);
    this.buffered = options.buffered ?? false;
    mkdirSync(dirname(this.file), { recursive: true });
    this.fd = openSync(this.file, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /** Appends one chunk (pino writes whole lines); rotates first when the chunk would not fit. */
  write(chunk: string): boolean {
    if (this.closed) return false;
    if (!this.buffered) {
      this.append([chunk]);
      return true;
    }
    this.pending.push(chunk);
    // A long synchronous burst must not hold an unbounded backlog in memory.
    if (this.pending.length >= 1000) this.flushSync();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushSync());
    }
    return true;
  }

  // Writes chunks in as few syscalls as possible, rotating between chunks when the next one would not fit.
  private append(chunks: readonly string[]): void {
    let batch = '';
    let batchBytes = 0;
    for (const chunk of chunks) {
      const bytes = Buffer.byteLength(chunk);
      if (this.size + batchBytes > 0 && this.size + batchBytes + bytes > this.maxBytes) {
        if (batch) writeSync(this.fd, batch);
        this.size += batchBytes;
        batch = '';
        batchBytes = 0;
        if (this.size > 0) this.rotate();
      }
      batch += chunk;
      batchBytes += bytes;
    }
    if (batch) writeSync(this.fd, batch);
    this.size += batchBytes;
  }

  /** Rotates now: the active file becomes `file.1`, and a new empty active file is opened. */
  rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.file}.${this.maxFiles}`, { force: true });
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      try {
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    renameSync(this.file, `${this.file}.1`);
    this.fd = openSync(this.file, 'a', 0o600);
    this.size = 0;
  }

  /** Writes buffered lines now (pino calls it on `logger.flush()`; also used at shutdown). */
  flushSync(): void {
    this.flushScheduled = false;
    if (this.closed || this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.append(chunks);
  }

  /** Flushes and closes the file; later writes are dropped. */
  end(): void {
    if (this.closed) return;
    this.flushSync();
    this.closed = true;
    closeSync(this.fd);
  }
}
