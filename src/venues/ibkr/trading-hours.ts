/**
 * IB's trading hours from contract details ("20261202:0930-20261202:1600;20261203:CLOSED", or the older
 * "20261202:0930-1600,1700-1800") read as sessions in epoch ms, in the contract's time zone (daylight saving through
 * Intl).
 */
import { ValidationError } from '../../core/errors.js';
import { zonedInstant } from '../../risk/trading-day.js';

/** One trading session, [open, close) in epoch ms. */
export interface TradingSession {
  open: number;
  close: number;
}

function instant(date: string, hhmm: string, timeZone: string, where: string): number {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  const t = /^(\d{2})(\d{2})$/.exec(hhmm);
  if (!d || !t)
    throw new ValidationError(`IB trading hours: cannot read "${date}:${hhmm}" in "${where}"`, 'tradingHours');
  return zonedInstant(+d[1], +d[2], +d[3], +t[1], +t[2], timeZone);
}

/** Parses IB's trading-hours string into sessions; days marked CLOSED have none. */
export function parseTradingHours(hours: string, timeZone: string): TradingSession[] {
  const out: TradingSession[] = [];
  for (const day of hours.split(';')) {
    if (!day || /:CLOSED$/.test(day)) continue;
    const colon = day.indexOf(':');
    const date = day.slice(0, colon);
    for (const range of day.slice(colon + 1).split(',')) {
      const [from, to] = range.split('-');
      if (!from || !to)
        throw new ValidationError(`IB trading hours: cannot read "${range}" in "${hours}"`, 'tradingHours');
      const [toDate, toTime] = to.includes(':') ? to.split(':') : [date, to];
      out.push({ open: instant(date, from, timeZone, hours), close: instant(toDate, toTime, timeZone, hours) });
    }
  }
  return out.sort((a, b) => a.open - b.open);
}

/** Whether `at` falls inside one of the sessions. */
export function inSession(sessions: readonly TradingSession[], at: number): boolean {
  return sessions.some((s) => at >= s.open && at < s.close);
}
