export * from './alerts/index.js';
export { type OpsClock, systemClock } from './clock.js';
export { type ClockDriftGuardOptions, ClockDriftGuard, type DriftMeasurement } from './clock-drift.js';
export { formatBalance, formatPositions, formatProfit, formatResult, formatStatus } from './control-format.js';
export type {
  Actor,
  ControlApi,
  ControlBalance,
  ControlPosition,
  ControlProfit,
  ControlResult,
  ControlStatus,
} from './control-port.js';
export { defaultRedact, REDACTED, redactText } from './default-redact.js';
export {
  type BreakerHealth,
  evaluateHealth,
  type HealthReport,
  type HealthSnapshot,
  type HealthSource,
  type HealthStatus,
} from './health.js';
export {
  type Beat,
  Heartbeat,
  type HeartbeatOptions,
  Watchdog,
  type WatchdogOptions,
  type WatchdogState,
} from './heartbeat.js';
export { type EventLogOptions, LOGGED_EVENTS, subscribeEventLog } from './event-log.js';
export { type CreateLoggerOptions, createLogger, type LogContext, type LogLevel, type OpsLogger } from './logger.js';
export { OpsMetrics, type OpsMetricsOptions } from './metrics.js';
export { RotatingFileStream, type RotatingFileOptions } from './rotating-file.js';
export { atLeast, SEVERITIES, type Severity } from './severity.js';
export {
  type ControlAuditEntry,
  type ControlLogger,
  TELEGRAM_COMMANDS,
  TelegramControl,
  type TelegramControlOptions,
} from './telegram-control.js';
