/** Typed errors of the domain. Every error a user can cause carries enough context to say what and where. */

/** Base class: every tradeforge error has a stable machine-readable `code`. */
export class TradeforgeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Input that does not satisfy a contract (bad flag, bad parameter, bad order field). */
export class ValidationError extends TradeforgeError {
  readonly field: string | undefined;
  constructor(message: string, field?: string, options?: { cause?: unknown }) {
    super('VALIDATION', message, options);
    this.field = field;
  }
}

/** A configuration value that is missing or wrong; `key` is the dotted path (e.g. `risk.maxOrderNotional`). */
export class ConfigError extends TradeforgeError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('CONFIG', key ? `config ${key}: ${message}` : message, options);
    this.key = key;
  }
}

/** Location of a problem inside a data file. Rows are 1-based and count the header as row 1. */
export interface DataLocation {
  file?: string;
  row?: number;
  column?: string;
}

/** Market data that cannot be read or fails validation under the reject policy. */
export class DataError extends TradeforgeError {
  readonly location: DataLocation;
  constructor(message: string, location: DataLocation = {}, options?: { cause?: unknown }) {
    super('DATA', DataError.format(message, location), options);
    this.location = location;
  }
  private static format(message: string, loc: DataLocation): string {
    const parts: string[] = [];
    if (loc.file) parts.push(loc.file);
    if (loc.row !== undefined) parts.push(`row ${loc.row}`);
    if (loc.column) parts.push(`column ${loc.column}`);
    return parts.length ? `${parts.join(', ')}: ${message}` : message;
  }
}

/** Stable reason codes of the risk engine (RISK-1..6). More may be added; existing ones never change meaning. */
export type RiskReasonCode =
  | 'MAX_NOTIONAL'
  | 'POSITION_LIMIT'
  | 'CAPITAL_CAP'
  | 'GROSS_EXPOSURE'
  | 'CONCENTRATION'
  | 'PRICE_BAND'
  | 'MARGIN_FLOOR'
  | 'INSUFFICIENT_FUNDS'
  | 'MIN_NOTIONAL'
  | 'ORDER_RATE'
  | 'DUPLICATE_SIGNAL'
  | 'HALTED'
  | 'KILL_SWITCH'
  | 'BREAKER_DAILY_LOSS'
  | 'BREAKER_EMERGENCY'
  | 'BREAKER_MAX_DRAWDOWN'
  | 'BREAKER_CONSECUTIVE_LOSSES'
  | 'STOPLOSS_GUARD'
  | 'COOLDOWN'
  | 'STALE_DATA'
  | 'CLOCK_DRIFT'
  | 'INVALID_ORDER'
  | (string & {});

/** A pre-trade rejection: which rule, why, the configured limit and the value that breached it. */
export class RiskLimitError extends TradeforgeError {
  readonly reason: RiskReasonCode;
  readonly detail: string;
  readonly limit: number | string | undefined;
  readonly actual: number | string | undefined;
  /** True when a risk engine in dry-run mode (RISK-9) reports this rejection but lets the order through. */
  readonly dryRun: boolean;
  constructor(
    reason: RiskReasonCode,
    detail: string,
    limit?: number | string,
    actual?: number | string,
    dryRun = false,
  ) {
    super(reason, `${reason}: ${detail}`);
    this.reason = reason;
    this.detail = detail;
    this.limit = limit;
    this.actual = actual;
    this.dryRun = dryRun;
  }
}

/** An error reported by or on the way to a venue; `retryable` says whether the same call may succeed later. */
export class VenueError extends TradeforgeError {
  readonly retryable: boolean;
  readonly venue: string | undefined;
  /** Milliseconds the venue asked us to wait (HTTP 429 Retry-After), when known. */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    opts: { retryable: boolean; venue?: string; code?: string; retryAfterMs?: number; cause?: unknown },
  ) {
    super(opts.code ?? (opts.retryable ? 'VENUE_RETRYABLE' : 'VENUE_FATAL'), message, { cause: opts.cause });
    this.retryable = opts.retryable;
    this.venue = opts.venue;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A strategy's own code failed (threw in a hook, returned garbage); the engine stops that strategy, not itself. */
export class StrategyError extends TradeforgeError {
  readonly strategyId: string | undefined;
  readonly barTime: number | undefined;
  constructor(message: string, opts: { strategyId?: string; barTime?: number; cause?: unknown } = {}) {
    super('STRATEGY', message, { cause: opts.cause });
    this.strategyId = opts.strategyId;
    this.barTime = opts.barTime;
  }
}

/** Authentication or authorisation failure. */
export class AuthError extends TradeforgeError {
  constructor(message: string, code = 'AUTH') {
    super(code, message);
  }
}

/** An order state change that the order state machine forbids. */
export class IllegalTransitionError extends TradeforgeError {
  constructor(orderId: string, from: string, to: string) {
    super('ILLEGAL_TRANSITION', `order ${orderId}: illegal transition ${from} -> ${to}`);
  }
}

/** True for errors caused by the user's input, which the CLI reports in one line without a stack trace. */
export function isUserError(err: unknown): err is TradeforgeError {
  return (
    err instanceof ValidationError ||
    err instanceof ConfigError ||
    err instanceof DataError ||
    err instanceof AuthError ||
    err instanceof RiskLimitError
  );
}

/** Longest user-supplied value an error message repeats back (a 100 MB field is not echoed to the terminal). */
export const ECHO_MAX = 80;

/** A user-supplied value quoted for an error message, cut to {@link ECHO_MAX} characters with its full length said. */
export function echoValue(value: string, max: number = ECHO_MAX): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}... (${value.length} characters)`;
}
