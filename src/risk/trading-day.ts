import { ValidationError } from '../core/errors.js';

/**
 * Where a firm's trading day starts: a wall-clock time in an IANA time zone (FTMO: 00:00 Europe/Prague; Topstep
 * and Apex: 17:00 America/Chicago). A session that starts in the evening (after noon) belongs to the next
 * calendar date, as the CME labels its sessions: the day that opens Sunday 17:00 Chicago is Monday's.
 */
export interface DayBoundary {
  timeZone: string;
  /** "HH:MM", 24-hour local time. */
  time: string;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new ValidationError(`unknown time zone "${timeZone}" (use an IANA name such as Europe/Prague)`, 'timeZone');
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of an instant in a time zone. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock date and time of `ts` (epoch ms) in `timeZone`, through Intl (so daylight saving is right). */
export function localTime(ts: number, timeZone: string): LocalTime {
  const out: LocalTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatter(timeZone).formatToParts(new Date(ts))) {
    if (p.type === 'year') out.year = Number(p.value);
    else if (p.type === 'month') out.month = Number(p.value);
    else if (p.type === 'day') out.day = Number(p.value);
    else if (p.type === 'hour') out.hour = Number(p.value);
    else if (p.type === 'minute') out.minute = Number(p.value);
    else if (p.type === 'second') out.second = Number(p.value);
  }
  return out;
}

/** The zone's offset from UTC at `ts`, in ms (Prague in summer: +7 200 000). */
export function zoneOffset(ts: number, timeZone: string): number {
  const l = localTime(ts, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(ts / 1000) * 1000;
}

/**
 * The instant a wall-clock time occurs in a zone. A repeated autumn time resolves to its first occurrence; a time
 * skipped by a spring-forward change resolves to the same wall time in the offset before the change (so it lands
 * after the gap, shifted by the gap's length).
 */
export function zonedInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  timeZone: string,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const before = wall - zoneOffset(wall - DAY_MS, timeZone);
  const after = wall - zoneOffset(wall + DAY_MS, timeZone);
  const fits = (t: number): boolean => t + zoneOffset(t, timeZone) === wall;
  const a = fits(before);
  const b = fits(after);
  if (a && b) return Math.min(before, after);
  if (a) return before;
  if (b) return after;
  return before;
}

/** Parses "HH:MM" into minutes after midnight; throws naming the value when malformed. */
export function parseClock(time: string, where = 'time'): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(time);
  const h = m ? Number(m[1]) : Number.NaN;
  const min = m ? Number(m[2]) : Number.NaN;
  if (!(h >= 0 && h < 24 && min >= 0 && min < 60)) {
    throw new ValidationError(`${where}: "${time}" is not a 24-hour "HH:MM" time`, where);
  }
  return h * 60 + min;
}

const iso = (y: number, m: number, d: number): string =>
  `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

/** Adds whole days to a calendar date (no zone involved). */
function addDays(y: number, m: number, d: number, n: number): [number, number, number] {
  const t = new Date(Date.UTC(y, m - 1, d) + n * DAY_MS);
  return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
}

/**
 * A firm's trading calendar: which trading day an instant belongs to and when that day starts and ends,
 * computed in the firm's zone so the boundary stays at the same local time across daylight-saving changes.
 */
export class TradingCalendar {
  private readonly minutes: number;
  /** Sessions opening after noon are labelled with the next date. */
  private readonly eveningStart: boolean;

  constructor(readonly boundary: DayBoundary) {
    this.minutes = parseClock(boundary.time, 'dayBoundary.time');
    formatter(boundary.timeZone);
    this.eveningStart = this.minutes >= 12 * 60;
  }

  /** The trading day `ts` belongs to, as "YYYY-MM-DD". */
  dayOf(ts: number): string {
    const l = localTime(ts, this.boundary.timeZone);
    const mins = l.hour * 60 + l.minute;
    let [y, m, d] = [l.year, l.month, l.day];
    if (this.eveningStart) {
      if (mins >= this.minutes) [y, m, d] = addDays(y, m, d, 1);
    } else if (mins < this.minutes) {
      [y, m, d] = addDays(y, m, d, -1);
    }
    return iso(y, m, d);
  }

  /** The instant the trading day labelled `day` ("YYYY-MM-DD") starts. */
  startOf(day: string): number {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    const [sy, sm, sd] = this.eveningStart ? addDays(y, m, d, -1) : [y, m, d];
    return zonedInstant(sy, sm, sd, Math.floor(this.minutes / 60), this.minutes % 60, this.boundary.timeZone);
  }

  /** The instant the trading day containing `ts` ends (the next boundary). */
  endOf(ts: number): number {
    const [y, m, d] = this.dayOf(ts).split('-').map(Number) as [number, number, number];
    return this.startOf(iso(...addDays(y, m, d, 1)));
  }
}
