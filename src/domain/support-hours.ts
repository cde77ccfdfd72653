/**
 * A department's opening hours: an IANA time zone and weekly intervals of local wall-clock time
 * ("Mon-Fri 09:00-17:30", several intervals a day, days left out are closed). Pure: the zone
 * arithmetic is `Intl.DateTimeFormat`'s (the platform's time zone data), never hand-written, so
 * daylight saving changes move the hours with the local clock.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `HH:MM` from 00:00 to 24:00 (24:00 only as an end: until midnight). */
export interface Interval {
  start: string;
  end: string;
}

export interface DepartmentHours {
  timeZone: string;
  weekly: Partial<Record<Weekday, Interval[]>>;
}

export interface HoursProblem {
  /** Relative to the hours object: `time_zone`, `weekly.mon.0.end`, … */
  path: string;
  message: string;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const ZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
export const MAX_INTERVALS_PER_DAY = 12;

/** Minutes after local midnight of an `HH:MM` (24:00 is 1440). */
export function minutesOf(t: string): number {
  return Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
}

/** Whether `zone` is an IANA zone name the platform knows (`Europe/Berlin`, `UTC`; not `+01:00`). */
export function isTimeZone(zone: string): boolean {
  if (!ZONE.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Every problem of a set of hours (empty when valid): an unknown zone, a time that is not
 * `HH:MM`, an interval that ends at or before its start, intervals of a day that overlap.
 * Intervals of a day may come in any order; they are kept sorted.
 */
export function checkHours(h: DepartmentHours): HoursProblem[] {
  const problems: HoursProblem[] = [];
  if (!isTimeZone(h.timeZone))
    problems.push({ path: 'time_zone', message: 'must be an IANA time zone such as Europe/Berlin' });
  for (const [day, intervals] of Object.entries(h.weekly)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      problems.push({ path: `weekly.${day}`, message: `must be one of ${WEEKDAYS.join(', ')}` });
      continue;
    }
    if (!intervals) continue;
    if (intervals.length > MAX_INTERVALS_PER_DAY)
      problems.push({ path: `weekly.${day}`, message: `at most ${MAX_INTERVALS_PER_DAY} intervals a day` });
    const ok: { i: number; from: number; to: number }[] = [];
    intervals.forEach((iv, i) => {
      const base = `weekly.${day}.${i}`;
      const startOk = TIME.test(iv.start) && iv.start !== '24:00';
      const endOk = TIME.test(iv.end);
      if (!startOk)
        problems.push({ path: `${base}.start`, message: 'must be a time HH:MM from 00:00 to 23:59' });
      if (!endOk) problems.push({ path: `${base}.end`, message: 'must be a time HH:MM from 00:01 to 24:00' });
      if (!startOk || !endOk) return;
      const from = minutesOf(iv.start);
      const to = minutesOf(iv.end);
      if (to <= from) {
        problems.push({ path: `${base}.end`, message: 'must be after start' });
        return;
      }
      ok.push({ i, from, to });
    });
    ok.sort((a, b) => a.from - b.from);
    for (let k = 1; k < ok.length; k++) {
      const prev = ok[k - 1]!;
      const cur = ok[k]!;
      if (cur.from < prev.to)
        problems.push({
          path: `weekly.${day}.${cur.i}`,
          message: `overlaps interval ${prev.i} of the same day`,
        });
    }
  }
  return problems;
}

/** The hours with each day's intervals sorted by start and empty days left out. */
export function normalizeHours(h: DepartmentHours): DepartmentHours {
  const weekly: DepartmentHours['weekly'] = {};
  for (const day of WEEKDAYS) {
    const list = h.weekly[day];
    if (list && list.length > 0)
      weekly[day] = [...list].sort((a, b) => minutesOf(a.start) - minutesOf(b.start));
  }
  return { timeZone: h.timeZone, weekly };
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  /** Minutes after local midnight. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

const SHORT_DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The wall-clock time in `zone` at the instant `ms`. */
export function localTime(zone: string, ms: number): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: SHORT_DAYS.indexOf(parts.weekday ?? ''),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** The zone's offset from UTC at the instant `ms`, in milliseconds (whole minutes). */
function offsetAt(zone: string, ms: number): number {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The instant the local wall-clock time (y, m, d, minute) happens in `zone`, disambiguated as
 * Temporal's `compatible` does: a time that a daylight saving change skips (02:30 on a
 * spring-forward night) is taken with the offset before the change (so 03:30 after it); one
 * that happens twice (autumn) is its first occurrence.
 */
export function instantOf(zone: string, y: number, m: number, d: number, minute: number): number {
  const wall = Date.UTC(y, m - 1, d) + minute * 60_000;
  // The offsets a day before and after cover any change near the wall time.
  const before = offsetAt(zone, wall - 86_400_000);
  const after = offsetAt(zone, wall + 86_400_000);
  const exact = [wall - before, wall - after, wall - offsetAt(zone, wall)]
    .filter((t) => {
      const l = localTime(zone, t);
      return Date.UTC(l.year, l.month - 1, l.day) + l.minute * 60_000 === wall;
    })
    .sort((a, b) => a - b);
  return exact[0] ?? wall - before;
}

function intervalsOn(h: DepartmentHours, weekday: number): Interval[] {
  return h.weekly[WEEKDAYS[weekday]!] ?? [];
}

/** Whether the department is open at the instant `ms`. */
export function isOpenAt(h: DepartmentHours, ms: number): boolean {
  const l = localTime(h.timeZone, ms);
  return intervalsOn(h, l.weekday).some(
    (iv) => minutesOf(iv.start) <= l.minute && l.minute < minutesOf(iv.end),
  );
}

/**
 * The instants after `ms` (within the next 8 days) at which the hours start or end an
 * interval, ascending: where open/closed may change.
 */
function boundariesAfter(h: DepartmentHours, ms: number): number[] {
  const out = new Set<number>();
  const today = localTime(h.timeZone, ms);
  const base = Date.UTC(today.year, today.month - 1, today.day);
  for (let k = -1; k <= 8; k++) {
    const date = new Date(base + k * 86_400_000);
    const weekday = (today.weekday + k + 7 * 2) % 7;
    for (const iv of intervalsOn(h, weekday)) {
      for (const minute of [minutesOf(iv.start), minutesOf(iv.end)]) {
        const t = instantOf(
          h.timeZone,
          date.getUTCFullYear(),
          date.getUTCMonth() + 1,
          date.getUTCDate(),
          minute,
        );
        if (t > ms) out.add(t);
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

export interface HoursState {
  open: boolean;
  /** When closed: the next instant it opens (null when the hours name no open time at all). */
  opensAt: number | null;
  /** When open: the instant it next closes (null: never, such as every day 00:00-24:00). */
  closesAt: number | null;
}

/** Open or closed at `ms`, and when that next changes. */
export function hoursStateAt(h: DepartmentHours, ms: number): HoursState {
  const open = isOpenAt(h, ms);
  for (const t of boundariesAfter(h, ms)) {
    if (isOpenAt(h, t) !== open)
      return open ? { open, opensAt: null, closesAt: t } : { open, opensAt: t, closesAt: null };
  }
  return { open, opensAt: null, closesAt: null };
}
