import { AppError, ConflictError, ValidationError } from './errors.ts';
import { allow, type Decision, deny } from './policies/decision.ts';
import { isOrgAdmin, type Principal } from './principal.ts';

/**
 * Conversation deletion jobs: what they select, the states they move through, the date rules
 * of the bot vendor's API (inclusive YYYY-MM-DD range, end not in the future, defaults) and the
 * off-peak window they run in. Pure: the service and the runner do the I/O.
 *
 *   queued --claim--> running --last chunk--> completed
 *   queued --cancel--> cancelled        running --error, attempts used up--> failed
 */
export const DeletionJobStatus = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type DeletionJobStatus = (typeof DeletionJobStatus)[number];

/** At most this many conversation ids in one job. */
export const MAX_JOB_CONVERSATION_IDS = 1000;
/** A job that fails this many times in a row is marked failed. */
export const MAX_JOB_ATTEMPTS = 5;

/**
 * What a job deletes. By conversation ids: exactly those conversations. By customer: the
 * support chats where the customer is the visitor and the direct chats they are in, that started
 * within the inclusive UTC date range (and before the job was submitted). Group chats and
 * channels belong to all their members and are never deleted for one customer. The whole org
 * (instance administrators only, docs/operations.md#org-lifecycle): every conversation, open
 * support chats included, then the org itself with everything that belongs to it.
 */
export type DeletionSelector =
  | { kind: 'conversations'; conversationIds: string[] }
  | { kind: 'org' }
  | {
      kind: 'customer';
      /** The customer's external id, as the caller named them. */
      customerId: string;
      /** The actor with that external id. */
      actorId: string;
      /** Inclusive, YYYY-MM-DD, UTC. */
      startDate: string;
      endDate: string;
    };

export interface DeletionCounts {
  conversationsDeleted: number;
  messagesDeleted: number;
  /** Open support chats (waiting or connected) that matched and were left alone. */
  conversationsSkipped: number;
}

export interface DeletionJob {
  id: string;
  orgId: string;
  /** The actor who asked (native API), or null when an app did. */
  requestedBy: string | null;
  /** The app's public AppId when an app asked (the bot dialect). */
  requestedByApp: number | null;
  selector: DeletionSelector;
  /** Count what would be deleted; delete nothing. */
  dryRun: boolean;
  status: DeletionJobStatus;
  /** The job is not started before this time (the next opening of the off-peak window). */
  notBefore: number;
  submittedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Conversations the job matched when it started; null until then. */
  conversationsTotal: number | null;
  counts: DeletionCounts;
  error: { code: string; message: string } | null;
  attempts: number;
}

/** A job as it is queued: nothing done yet. */
export function queuedJob(
  j: Pick<
    DeletionJob,
    'id' | 'orgId' | 'requestedBy' | 'requestedByApp' | 'selector' | 'dryRun' | 'notBefore' | 'submittedAt'
  >,
): DeletionJob {
  return {
    ...j,
    status: 'queued',
    startedAt: null,
    finishedAt: null,
    conversationsTotal: null,
    counts: { conversationsDeleted: 0, messagesDeleted: 0, conversationsSkipped: 0 },
    error: null,
    attempts: 0,
  };
}

const JOB_ID = /^cdj-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a deletion job id (`cdj-` and a lowercase UUID). */
export function isJobId(value: string): boolean {
  return JOB_ID.test(value);
}

/** Who may create, see and cancel deletion jobs through the native API: org owners and admins. */
export function canManageDeletionJobs(p: Principal): Decision {
  if (!isOrgAdmin(p)) return deny('admin_role_required', 'Only org owners and admins manage deletion jobs');
  return allow();
}

/** The field names of a surface, so errors name the field the caller sent. */
export interface SelectorFieldNames {
  conversationIds: string;
  customerId: string;
  startDate: string;
  endDate: string;
}

export interface SelectorInput {
  conversationIds?: readonly string[] | undefined;
  customerId?: string | undefined;
  startDate?: string | undefined;
  endDate?: string | undefined;
}

/**
 * Which selector a request uses: exactly one of conversation ids and customer id
 * (`selector_required`, `ambiguous_selector`); dates only with a customer
 * (`dates_need_customer`); at least one id (`invalid_request`). All 400.
 */
export function selectorKind(input: SelectorInput, names: SelectorFieldNames): 'conversations' | 'customer' {
  // Messages name the fields as the caller wrote them; details carry the full paths.
  const ids = names.conversationIds.replace(/^body\./, '');
  const customer = names.customerId.replace(/^body\./, '');
  const hasIds = input.conversationIds !== undefined;
  const hasCustomer = input.customerId !== undefined;
  if (hasIds && hasCustomer)
    throw new ValidationError('ambiguous_selector', `Give either ${ids} or ${customer}, not both`, [
      { path: names.customerId, problem: `cannot be combined with ${ids}` },
    ]);
  if (!hasIds && !hasCustomer)
    throw new ValidationError(
      'selector_required',
      `Give ${ids} (the conversations to delete) or ${customer} (a customer whose conversations to delete)`,
      [{ path: names.conversationIds, problem: `is required unless ${customer} is given` }],
    );
  if (hasIds) {
    for (const [field, value] of [
      [names.startDate, input.startDate],
      [names.endDate, input.endDate],
    ] as const)
      if (value !== undefined)
        throw ValidationError.field(field, `is only used with ${customer}`, 'dates_need_customer');
    if (input.conversationIds!.length === 0)
      throw ValidationError.field(names.conversationIds, 'must name at least one conversation');
    return 'conversations';
  }
  if (input.customerId!.trim() === '')
    throw ValidationError.field(names.customerId, 'must not be empty', 'invalid_customer_id');
  return 'customer';
}

const DAY_MS = 24 * 60 * 60 * 1000;
const bare = (path: string) => path.replace(/^body\./, '');
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/** The UTC midnight of a `YYYY-MM-DD` date, or `invalid_date` (400) naming the field. */
export function parseDate(value: string, path: string): number {
  const m = DATE.exec(value);
  const bad = () => ValidationError.field(path, 'must be a date as YYYY-MM-DD', 'invalid_date');
  if (!m) throw bad();
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (y < 1970 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    throw bad();
  return ms;
}

/** `YYYY-MM-DD` of a time, in UTC. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The first and last millisecond of an inclusive UTC date range. */
export function dateRangeBounds(startDate: string, endDate: string): { from: number; to: number } {
  return { from: parseDate(startDate, 'start_date'), to: parseDate(endDate, 'end_date') + DAY_MS - 1 };
}

/**
 * The customer selector's inclusive range with the vendor's defaults: the start defaults to the
 * later of the customer's and the org's creation dates, the end to today (UTC). The end must not
 * be in the future (`end_date_in_future`) and the start not after the end (`invalid_date_range`);
 * malformed dates are `invalid_date`. All 400.
 */
export function resolveDateRange(
  input: { startDate?: string | undefined; endDate?: string | undefined },
  ctx: { customerCreatedAt: number; orgCreatedAt: number; now: number },
  names: Pick<SelectorFieldNames, 'startDate' | 'endDate'>,
): { startDate: string; endDate: string } {
  const today = isoDate(ctx.now);
  const start =
    input.startDate === undefined
      ? Date.parse(isoDate(Math.max(ctx.customerCreatedAt, ctx.orgCreatedAt)))
      : parseDate(input.startDate, names.startDate);
  const end = input.endDate === undefined ? Date.parse(today) : parseDate(input.endDate, names.endDate);
  if (end > Date.parse(today))
    throw ValidationError.field(
      names.endDate,
      `must not be in the future (today is ${today}, UTC)`,
      'end_date_in_future',
    );
  if (start > end)
    throw new ValidationError(
      'invalid_date_range',
      `${bare(names.startDate)} (${isoDate(start)}) is after ${bare(names.endDate)} (${isoDate(end)})`,
      [{ path: names.startDate, problem: `must not be after ${bare(names.endDate)}` }],
    );
  return { startDate: isoDate(start), endDate: isoDate(end) };
}

/** Conversation ids a job cannot use, listed in the error's details (404 / 409). */
export function unknownConversations(ids: readonly string[]): AppError {
  return new AppError(
    'not_found',
    'conversation_not_found',
    `${ids.length === 1 ? `Conversation ${ids[0]} was` : `${ids.length} conversations were`} not found`,
    { ids },
  );
}

export function openConversations(ids: readonly string[]): ConflictError {
  return new ConflictError(
    'chat_not_closed',
    'Open support chats (waiting or connected) cannot be deleted; end them first',
    { ids },
  );
}

/* The off-peak window. */

/** When jobs may run: any time, or between two local times (the end may be after midnight). */
export type DeletionWindow =
  | { anyTime: true }
  | { anyTime: false; start: number; end: number; timeZone: string };

/** The org settings key of an org's own window. */
export const WINDOW_SETTING_KEY = 'deletion_window';

const HHMM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

function minutesOf(hhmm: string): number | undefined {
  const m = HHMM.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

export function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** True when `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A window from its parts, or `invalid_window` (400): `anyTime`, or `start` and `end` as HH:MM
 * (different from each other) and an IANA `timeZone` (UTC when omitted).
 */
export function makeWindow(input: {
  anyTime?: boolean | undefined;
  start?: string | undefined;
  end?: string | undefined;
  timeZone?: string | undefined;
}): DeletionWindow {
  const bad = (path: string, problem: string) => ValidationError.field(path, problem, 'invalid_window');
  if (input.anyTime === true) {
    if (input.start !== undefined || input.end !== undefined || input.timeZone !== undefined)
      throw bad('body.any_time', 'cannot be combined with start, end or time_zone');
    return { anyTime: true };
  }
  if (input.start === undefined) throw bad('body.start', 'is required unless any_time is true');
  if (input.end === undefined) throw bad('body.end', 'is required unless any_time is true');
  const start = minutesOf(input.start);
  const end = minutesOf(input.end);
  if (start === undefined) throw bad('body.start', 'must be a time as HH:MM (00:00 to 23:59)');
  if (end === undefined) throw bad('body.end', 'must be a time as HH:MM (00:00 to 23:59)');
  if (start === end) throw bad('body.end', 'must differ from start (use any_time for no limit)');
  const timeZone = input.timeZone ?? 'UTC';
  if (!isTimeZone(timeZone)) throw bad('body.time_zone', 'must be an IANA time zone such as Europe/Paris');
  return { anyTime: false, start, end, timeZone };
}

/** Parses the server default (`any` or `HH:MM-HH:MM`, UTC). */
export function parseWindowSpec(spec: string): DeletionWindow {
  if (spec === 'any') return { anyTime: true };
  const [start, end] = spec.split('-');
  return makeWindow({ start, end, timeZone: 'UTC' });
}

/** The org's own window from its settings JSON, or `fallback` when it has none (or an unusable one). */
export function windowFromSettings(
  settings: Record<string, unknown>,
  fallback: DeletionWindow,
): DeletionWindow {
  const v = settings[WINDOW_SETTING_KEY] as Record<string, unknown> | undefined;
  if (!v || typeof v !== 'object') return fallback;
  try {
    if (v.any_time === true) return { anyTime: true };
    return makeWindow({ start: v.start as string, end: v.end as string, timeZone: v.time_zone as string });
  } catch {
    return fallback;
  }
}

/** The window as stored in the org settings. */
export function windowSetting(w: DeletionWindow): Record<string, unknown> {
  return w.anyTime
    ? { any_time: true }
    : { start: formatMinutes(w.start), end: formatMinutes(w.end), time_zone: w.timeZone };
}

/** Minutes since local midnight in `timeZone` at `now`. */
function localMinutes(now: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

/** Whether the window is open at `now` (start inclusive, end exclusive). */
export function isWindowOpen(w: DeletionWindow, now: number): boolean {
  if (w.anyTime) return true;
  const m = localMinutes(now, w.timeZone);
  return w.start < w.end ? m >= w.start && m < w.end : m >= w.start || m < w.end;
}

/**
 * `now` when the window is open, else the next time it opens (to the minute; a daylight-saving
 * change on that day may move it by the size of the change).
 */
export function nextWindowOpening(w: DeletionWindow, now: number): number {
  if (w.anyTime || isWindowOpen(w, now)) return now;
  const wait = (w.start - localMinutes(now, w.timeZone) + 1440) % 1440;
  return now - (now % 60_000) + wait * 60_000;
}
