import { ConflictError } from './errors.ts';
import type { SupportSettings, SupportState } from './model.ts';

/**
 * The support chat state machine: which action may happen in which state. Policies (who) are
 * in policies/support.ts; races are settled by the database, which applies a transition with
 * a compare-and-set on `fromStates(action)`; this module names the states and the errors.
 *
 *   waiting --pick_up--> connected --transfer--> connected
 *   waiting --reroute--> waiting (another department)
 *   waiting | connected --end--> ended
 *   waiting --miss--> missed
 */
export const SupportAction = ['pick_up', 'transfer', 'reroute', 'end', 'miss'] as const;
export type SupportAction = (typeof SupportAction)[number];

interface Transition {
  from: readonly SupportState[];
  /** The state after the action. */
  to: SupportState;
  /** The conflict code when the chat is in another state. */
  code: string;
  message: string;
}

const TRANSITIONS: Record<SupportAction, Transition> = {
  pick_up: {
    from: ['waiting'],
    to: 'connected',
    code: 'chat_not_waiting',
    message: 'The chat is no longer waiting to be picked up',
  },
  transfer: {
    from: ['connected'],
    to: 'connected',
    code: 'chat_not_connected',
    message: 'Only a connected chat can be transferred to an operator; pick it up first',
  },
  reroute: {
    from: ['waiting'],
    to: 'waiting',
    code: 'chat_not_waiting',
    message:
      'Only a waiting chat can be moved to another department; a connected chat is transferred to an operator',
  },
  end: {
    from: ['waiting', 'connected'],
    to: 'ended',
    code: 'chat_not_open',
    message: 'The chat has already ended',
  },
  miss: {
    from: ['waiting'],
    to: 'missed',
    code: 'chat_not_waiting',
    message: 'The chat is no longer waiting',
  },
};

/** The states an action may start from (the compare-and-set condition). */
export function fromStates(action: SupportAction): readonly SupportState[] {
  return TRANSITIONS[action].from;
}

/** The state an action leads to. */
export function nextState(action: SupportAction): SupportState {
  return TRANSITIONS[action].to;
}

/** Whether `action` may start from `state`. */
export function canTransition(state: SupportState, action: SupportAction): boolean {
  return TRANSITIONS[action].from.includes(state);
}

/**
 * The state after `action`, or a `ConflictError` with the action's code (`chat_not_waiting`,
 * `chat_not_connected`, `chat_not_open`) when the chat is in a state the action cannot start from.
 */
export function assertTransition(
  state: SupportState,
  action: SupportAction,
  details?: unknown,
): SupportState {
  const t = TRANSITIONS[action];
  if (!t.from.includes(state)) throw new ConflictError(t.code, t.message, details);
  return t.to;
}

/**
 * An open support chat (waiting or connected): nothing may delete it until it ends. `null` is
 * a conversation that is not a support chat, and never open.
 */
export function isOpenChat(state: SupportState | string | null | undefined): boolean {
  return state === 'waiting' || state === 'connected';
}

/** Closed chats (ended or missed) are the only ones that may go to the recycle bin. */
export function isClosed(state: SupportState): boolean {
  return state === 'ended' || state === 'missed';
}

/** The value of the unique open-chat key: one open chat per visitor per department. */
export function openKey(visitorId: string, departmentId: string): string {
  return `${visitorId}:${departmentId}`;
}

export const DEFAULT_RECYCLE_BIN_DAYS = 90;
export const DEFAULT_MISSED_AFTER_SECONDS = 180;
export const RECYCLE_BIN_DAYS_RANGE = { min: 1, max: 3650 } as const;
export const MISSED_AFTER_SECONDS_RANGE = { min: 10, max: 86_400 } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The org settings JSON keys that hold the support settings. */
export const SETTING_KEYS = {
  recycleBinDays: 'recycle_bin_days',
  missedAfterSeconds: 'support_missed_after_seconds',
} as const;

function inRange(v: unknown, range: { min: number; max: number }): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= range.min && v <= range.max;
}

/** Reads the support settings from an org's settings JSON; missing or unusable values take the defaults. */
export function supportSettingsFrom(settings: Record<string, unknown>): SupportSettings {
  const days = settings[SETTING_KEYS.recycleBinDays];
  const missed = settings[SETTING_KEYS.missedAfterSeconds];
  return {
    recycleBinDays: inRange(days, RECYCLE_BIN_DAYS_RANGE) ? days : DEFAULT_RECYCLE_BIN_DAYS,
    missedAfterSeconds: inRange(missed, MISSED_AFTER_SECONDS_RANGE) ? missed : DEFAULT_MISSED_AFTER_SECONDS,
  };
}

/** The time a conversation deleted at `deletedAt` is purged for good. */
export function purgeTime(deletedAt: number, settings: SupportSettings): number {
  return deletedAt + settings.recycleBinDays * DAY_MS;
}

/** How long a conversation stays in the recycle bin, in milliseconds. */
export function retentionMs(settings: SupportSettings): number {
  return settings.recycleBinDays * DAY_MS;
}
