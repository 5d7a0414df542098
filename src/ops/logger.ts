import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { defaultRedact, redactText } from './default-redact.js';
import { RotatingFileStream } from './rotating-file.js';
import { activeTraceId, tracingEnabled } from '../core/tracing.js';

/** Log levels accepted by config `log.level`. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Fields every tradeforge log line may carry besides time, level and msg (OPS-1). */
export interface LogContext {
  component?: string;
  correlationId?: string;
  orderId?: string;
  clientOrderId?: string;
  symbol?: string;
  strategyId?: string;
  deploymentId?: string;
}

/** Options of {@link createLogger}; `level`, `file`, `maxBytes`, `maxFiles` come from config `log`. */
export interface CreateLoggerOptions {
  level?: LogLevel;
  /** Log file path; when unset, logs go to stdout only. */
  file?: string;
  maxBytes?: number;
  maxFiles?: number;
  /** Batch file writes per event-loop turn (faster; a hard crash may lose the last lines). Default false. */
  buffered?: boolean;
  /** Also write to stdout (default: true when no file is given, false otherwise). */
  stdout?: boolean;
  /** Extra destination (tests, the dashboard's log tail); receives the same redacted lines. */
  stream?: DestinationStream;
  /**
   * Secret redactor applied to every logged object, child binding and message string. The runtime injects the
   * security module's `redact`; the default masks secret-looking field names and token shapes.
   */
  redact?: (value: unknown) => unknown;
  /** Bindings on every line (e.g. `{ component: 'runtime', deploymentId }`). */
  base?: LogContext & Record<string, unknown>;
}

/** A root logger plus the handles to flush and close its file. */
export interface OpsLogger {
  logger: Logger;
  /** A child logger for one component (`execution`, `venue:binance`, `ops:alerts` ...). */
  child(component: string, context?: Omit<LogContext, 'component'>): Logger;
  /** Writes buffered lines now. */
  flush(): void;
  /** Flushes and closes the log file (later lines are dropped). */
  close(): void;
  /** The rotating file, when logging to a file. */
  file?: RotatingFileStream;
}

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };

// The mixin of a logger made while tracing is on (pino adds the line's fields to the object it returns).
const traceIdField = (): Record<string, string> => {
  const traceId = activeTraceId();
  return traceId === undefined ? {} : { traceId };
};

/**
 * Creates the structured JSON logger (pino): ISO `timestamp`, `level` as a label, child loggers per component,
 * secrets redacted before anything is written, size-rotated file, the active span's `traceId` when tracing is on.
 */

export function createLogger(options: CreateLoggerOptions = {}): OpsLogger {
  const redact = options.redact ?? defaultRedact;
  const streams: DestinationStream[] = [];
  let file: RotatingFileStream | undefined;
  if (options.file !== undefined) {
    file = new RotatingFileStream({
      file: options.file,
      maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
      maxFiles: options.maxFiles ?? 5,
      buffered: options.buffered,
    });
    streams.push(file);
  }
  if (options.stream) streams.push(options.stream);
  if (options.stdout ?? options.file === undefined) streams.push(pino.destination({ fd: 1, sync: true }));
  const destination: DestinationStream =
    streams.length === 1 ? streams[0] : pino.multistream(streams.map((stream) => ({ stream, level: 'trace' })));

  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ? asRecord(redact(options.base)) : {},
    messageKey: 'msg',
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    // Errors are serialised before redaction (so the redactor sees message and stack as strings); pino's own err
    // serializer must then leave the plain object alone.
    serializers: { err: (e: unknown) => (e instanceof Error ? pino.stdSerializers.err(e) : e) },
    // The trace id of the span a line is written in; a logger made while tracing is off has no mixin (no cost).
    ...(tracingEnabled() ? { mixin: traceIdField } : {}),
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => asRecord(redact(bindings)),
      log: (obj) => asRecord(redact(serialiseErrors(obj))),
    },
    hooks: {
      // Last line of defence for bindings of grandchild loggers created through pino's own child(), which pino does
      // not pass through formatters.bindings: mask token shapes in the final line.
      streamWrite: (line) => redactText(oneComponent(line)),
      // Messages and printf arguments are redacted too: secrets leak through interpolated strings as often as fields.
      logMethod(args, method) {
        const clean = args.map((a) => (typeof a === 'string' ? redactString(redact, a) : a));
        method.apply(this, clean as Parameters<typeof method>);
      },
    },
  };
  const logger = pino(pinoOptions, destination);
  return {
    logger,
    file,
    child: (component, context) => logger.child(asRecord(redact({ component, ...context }))),
    flush: () => file?.flushSync(),
    close: () => {
      file?.end();
    },
  };
}

const COMPONENT_KEY = '"component":';
const FIRST_COMPONENT = /"component":"(?:[^"\\]|\\.)*",/;

/**
 * Keeps one `component` per line: pino concatenates a child's bindings after its parent's, so a component logger's
 * child (the event log's per-source loggers under the runtime's) would otherwise carry the key twice. The last one,
 * the most specific, is what a JSON parser reads, so that is the one kept.
 */
export function oneComponent(line: string): string {
  const first = line.indexOf(COMPONENT_KEY);
  if (first < 0 || line.indexOf(COMPONENT_KEY, first + COMPONENT_KEY.length) < 0) return line;
  let out = line;
  // Drop the earlier ones until one is left.
  while (out.indexOf(COMPONENT_KEY, out.indexOf(COMPONENT_KEY) + COMPONENT_KEY.length) >= 0) {
    const next = out.replace(FIRST_COMPONENT, '');
    if (next === out) break;
    out = next;
  }
  return out;
}

function serialiseErrors(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const v = obj[key];
    if (v instanceof Error) {
      out ??= { ...obj };
      out[key] = pino.stdSerializers.err(v);
    }
  }
  return out ?? obj;
}

function redactString(redact: (value: unknown) => unknown, text: string): string {
  const out = redact(text);
  return typeof out === 'string' ? out : String(out);
}

export type { Logger } from 'pino';
