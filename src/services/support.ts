import type { AppContext, Db } from '../context.ts';
import { type AppError, ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { NewEvent } from '../domain/events.ts';
import type {
  Actor,
  Department,
  Message,
  SupportChat,
  SupportSettings,
  VisitorChannel,
} from '../domain/model.ts';
import { allow, authorize, deny } from '../domain/policies/decision.ts';
import {
  canEnd,
  canManageSupport,
  canPickUp,
  canReroute,
  canSeeSupportChat,
  canStartSupportChat,
  canTransfer,
  canViewQueue,
  isStaff,
  isStaffActor,
  servesDepartment,
} from '../domain/policies/support.ts';
import { isOrgAdmin, type Principal } from '../domain/principal.ts';
import {
  assertTransition,
  fromStates,
  MISSED_AFTER_SECONDS_RANGE,
  nextState,
  openKey,
  RECYCLE_BIN_DAYS_RANGE,
  retentionMs,
  SETTING_KEYS,
  type SupportAction,
  supportSettingsFrom,
} from '../domain/support.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { findActor, findActorsByIds } from '../store/repos/actors.ts';
import { adjustMemberCount } from '../store/repos/conversations.ts';
import { storeNewMessage } from '../store/repos/messages.ts';
import { findOrgSettings, updateOrgSetting } from '../store/repos/orgs.ts';
import { reschedulePurges } from '../store/repos/recycle-bin.ts';
import {
  type ChatChanges,
  findChatParticipants,
  findCurrentMemberIds,
  findCurrentMemberIdsOf,
  findDepartment,
  findDepartmentStaffIds,
  findOpenChatByKey,
  findOperatorDepartmentIds,
  findOrgsWithWaitingChats,
  findSupportChat,
  findUnreadCount,
  insertSupportChat,
  joinSupportChat,
  listWaitingChats,
  markChatsMissed,
  nextSupportReference,
  transitionChat,
} from '../store/repos/support.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { inTransaction } from './tx.ts';

/**
 * Live support: visitors start chats into a department's queue; operators pick them up
 * (exactly one wins), transfer, end them; chats nobody picks up become missed. Every state
 * change is one compare-and-set on the chat's state in one transaction, together with its
 * events and audit record.
 */

/** A support chat with the people and department it names, as every surface presents it. */
export interface SupportChatView {
  chat: SupportChat;
  department: Department | null;
  visitor: Actor | null;
  owner: Actor | null;
  attender: Actor | null;
  /** Current members who are not visitors (operators, bots), in the order they joined. */
  participants: Actor[];
  /** The caller's unread count in the chat; null when the caller is not a member. */
  unreadCount: number | null;
}

const notFound = (id: string) => new NotFoundError('conversation_not_found', `Conversation ${id} not found`);

/**
 * The support chat `id` as the principal may see it: the org's staff see every support chat of
 * the org, a visitor sees their own. Unknown ids, other orgs' chats, chats in the recycle bin,
 * other kinds of conversation and chats the caller may not see all throw the same
 * `NotFoundError('conversation_not_found')`. (The support counterpart of services/access.ts.)
 */
export async function loadSupportChat(db: Db, p: Principal, id: string): Promise<SupportChat> {
  const chat = await findSupportChat(db, p.orgId, id);
  if (!chat || !canSeeSupportChat(p, chat)) throw notFound(id);
  return chat;
}

async function viewOf(ctx: AppContext, p: Principal, chat: SupportChat): Promise<SupportChatView> {
  const ids = [chat.visitorId, chat.ownerId, chat.attenderId].filter((v): v is string => v !== null);
  const actors = new Map((await findActorsByIds(ctx.db, chat.orgId, ids)).map((a) => [a.id, a]));
  const pick = (id: string | null) => (id === null ? null : (actors.get(id) ?? null));
  return {
    chat,
    department: (await findDepartment(ctx.db, chat.orgId, chat.departmentId)) ?? null,
    visitor: pick(chat.visitorId),
    owner: pick(chat.ownerId),
    attender: pick(chat.attenderId),
    participants: await findChatParticipants(ctx.db, chat.id),
    unreadCount: await findUnreadCount(ctx.db, chat.id, p.actor.id),
  };
}

/** The chat as stored now (after a change committed), or the given version if it has since gone. */
async function freshView(ctx: AppContext, p: Principal, chat: SupportChat): Promise<SupportChatView> {
  return viewOf(ctx, p, (await findSupportChat(ctx.db, chat.orgId, chat.id)) ?? chat);
}

/** The event payload of a support chat: ids and states only, in the native API's field names. */
function eventPayload(chat: SupportChat, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    conversation_id: chat.id,
    reference_id: chat.referenceId,
    state: chat.state,
    department_id: chat.departmentId,
    visitor_id: chat.visitorId,
    owner_id: chat.ownerId,
    attender_id: chat.attenderId,
    ...extra,
  };
}

/**
 * The error for a compare-and-set that found the chat in another state: the state machine's
 * conflict for `action`, naming the chat's current state and owner.
 */
async function conflictFor(tx: Db, orgId: string, id: string, action: SupportAction): Promise<AppError> {
  const current = await findSupportChat(tx, orgId, id);
  if (!current) return notFound(id);
  const owner = current.ownerId ? await findActor(tx, orgId, current.ownerId) : undefined;
  const details = { state: current.state, owner: owner ? { id: owner.id, name: owner.name } : null };
  try {
    assertTransition(current.state, action, details);
  } catch (err) {
    const e = err as AppError;
    return owner ? new ConflictError(e.code, `${e.message} (it is with ${owner.name})`, details) : e;
  }
  return new ConflictError('chat_changed', 'The chat changed while this request ran; try again', details);
}

export interface StartChatInput {
  departmentId: string;
  question: string;
  /** Staff start a chat on behalf of this visitor; a visitor starts their own (omit it). */
  visitorId?: string | undefined;
  uvid?: string | undefined;
  channel?: VisitorChannel | undefined;
}

/**
 * Starts a support chat in `waiting`: the visitor becomes its member and their question its
 * first message. A visitor has at most one open chat per department; the database's unique
 * open-chat key settles concurrent starts (`visitor_has_open_chat` 409, naming the open chat).
 * Also `department_not_found`, `visitor_not_found` (404), `visitor_id_required` (400) and policy
 * errors (`visitor_or_operator_required`, `cannot_start_for_others`, 403).
 */
export async function startSupportChat(
  ctx: AppContext,
  p: Principal,
  input: StartChatInput,
): Promise<SupportChatView> {
  authorize(canStartSupportChat(p, input.visitorId));
  let visitor: Actor;
  if (p.actor.kind === 'visitor') {
    visitor = p.actor;
  } else {
    if (input.visitorId === undefined)
      throw ValidationError.field(
        'body.visitor_id',
        'is required when staff start a chat',
        'visitor_id_required',
      );
    const found = await findActor(ctx.db, p.orgId, input.visitorId);
    if (!found?.active || found.kind !== 'visitor')
      throw new NotFoundError('visitor_not_found', `Visitor ${input.visitorId} not found`);
    visitor = found;
  }
  const department = await findDepartment(ctx.db, p.orgId, input.departmentId);
  if (!department)
    throw new NotFoundError('department_not_found', `Department ${input.departmentId} not found`);

  const now = ctx.clock.now();
  const key = openKey(visitor.id, department.id);
  const chat: SupportChat = {
    id: ctx.ids.next(),
    orgId: p.orgId,
    kind: 'support',
    // Named after the visitor: the title operators see in their lists.
    title: visitor.name,
    creatorId: p.actor.id,
    memberCount: 1,
    lastMessageId: null,
    lastActivityAt: now,
    createdAt: now,
    updatedAt: now,
    state: 'waiting',
    departmentId: department.id,
    visitorId: visitor.id,
    ownerId: null,
    attenderId: null,
    question: input.question,
    referenceId: '',
    uvid: input.uvid ?? visitor.externalId ?? visitor.id,
    channel: input.channel ?? visitor.channel ?? 'website',
    attendedAt: null,
    endedAt: null,
    missedAt: null,
    deletedAt: null,
    purgeAt: null,
    deletedBy: null,
  };
  const created = await inTransaction(ctx, async (tx) => {
    chat.referenceId = String(await nextSupportReference(tx.db, p.orgId));
    if (!(await insertSupportChat(tx.db, chat, key))) {
      const open = await findOpenChatByKey(tx.db, p.orgId, key);
      throw new ConflictError(
        'visitor_has_open_chat',
        'This visitor already has an open chat in this department',
        open ? { conversation_id: open.id, state: open.state } : null,
      );
    }
    await joinSupportChat(tx.db, p.orgId, chat.id, visitor.id, 'member', now);
    const message: Message = {
      id: ctx.ids.next(),
      orgId: p.orgId,
      conversationId: chat.id,
      senderId: visitor.id,
      type: 'text',
      text: input.question,
      metadata: null,
      replyToId: null,
      clientId: null,
      createdAt: now,
      editedAt: null,
      deletedAt: null,
    };
    await storeNewMessage(tx.db, message);
    const staff = await findDepartmentStaffIds(tx.db, p.orgId, department.id);
    tx.emit(p.orgId, [
      {
        type: 'support.waiting',
        conversationId: chat.id,
        recipients: [...staff, visitor.id],
        payload: eventPayload(chat, { question: chat.question }),
      },
    ]);
    return chat;
  });
  return freshView(ctx, p, created);
}

/** One support chat (`conversation_not_found` 404 unless the caller is staff or its visitor). */
export async function getSupportChat(ctx: AppContext, p: Principal, id: string): Promise<SupportChatView> {
  return viewOf(ctx, p, await loadSupportChat(ctx.db, p, id));
}

/**
 * The caller's queue: waiting chats of the departments the caller serves (all of them for
 * admins and operators without departments), oldest first. `department_id` narrows it to one
 * (`not_in_department` 403 when the caller does not serve it; `department_not_found` 404).
 * Staff only (`operator_role_required` 403).
 */
export async function listQueue(
  ctx: AppContext,
  p: Principal,
  input: { departmentId?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: SupportChatView[]; nextCursor: string | null }> {
  authorize(canViewQueue(p));
  const mine = await findOperatorDepartmentIds(ctx.db, p.actor.id);
  let departmentIds: string[] | null = p.actor.role === 'operator' && mine.length > 0 ? mine : null;
  if (input.departmentId !== undefined) {
    const d = await findDepartment(ctx.db, p.orgId, input.departmentId);
    if (!d) throw new NotFoundError('department_not_found', `Department ${input.departmentId} not found`);
    authorize(
      servesDepartment(p.actor, mine, d.id)
        ? allow()
        : deny('not_in_department', 'You are not an operator of this department'),
    );
    departmentIds = [d.id];
  }
  const after = input.cursor ? decodeCursor(input.cursor, 'queue', ['int', 'id']) : undefined;
  const rows = await listWaitingChats(ctx.db, p.orgId, {
    departmentIds,
    after: after ? { createdAt: Number(after[0]), id: String(after[1]) } : undefined,
    limit: input.limit + 1,
  });
  const page = keysetPage(rows, input.limit, 'queue', (last) => [last.createdAt, last.id]);
  const items: SupportChatView[] = [];
  for (const chat of page.items) items.push(await viewOf(ctx, p, chat));
  return { items, nextCursor: page.nextCursor };
}

async function supportEvent(
  tx: Db,
  chat: SupportChat,
  type: NewEvent['type'],
  departments: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<NewEvent> {
  const recipients = await findCurrentMemberIds(tx, chat.id);
  for (const d of new Set(departments)) recipients.push(...(await findDepartmentStaffIds(tx, chat.orgId, d)));
  return { type, conversationId: chat.id, recipients, payload: eventPayload(chat, extra) };
}

/**
 * Picks up a waiting chat: in one transaction, a compare-and-set moves it from `waiting` to
 * `connected` with the caller as owner and attender (attended time set) and the caller joins it
 * as its owner. However many operators (or nodes) try at once, exactly one wins; the others get
 * `chat_not_waiting` (409) whose details name the current `owner` and `state` (`chat_changed`
 * 409 if it moved to another department meanwhile: try again). Policy errors:
 * `operator_role_required`, `not_in_department` (403); `conversation_not_found` (404).
 */
export async function pickUpChat(ctx: AppContext, p: Principal, id: string): Promise<SupportChatView> {
  const chat = await loadSupportChat(ctx.db, p, id);
  const mine = isStaff(p) ? await findOperatorDepartmentIds(ctx.db, p.actor.id) : [];
  authorize(canPickUp(p, chat, mine));
  const now = ctx.clock.now();
  const picked = await inTransaction(ctx, async (tx) => {
    const updated = await transitionChat(
      tx.db,
      p.orgId,
      chat.id,
      fromStates('pick_up'),
      {
        state: nextState('pick_up'),
        owner_id: p.actor.id,
        attender_id: p.actor.id,
        attended_at: now,
        updated_at: now,
      },
      { departmentId: chat.departmentId },
    );
    if (!updated) throw await conflictFor(tx.db, p.orgId, chat.id, 'pick_up');
    if (await joinSupportChat(tx.db, p.orgId, chat.id, p.actor.id, 'owner', now))
      await adjustMemberCount(tx.db, chat.id, 1, now);
    tx.emitAudited(p.orgId, p.actor.id, [
      {
        event: await supportEvent(tx.db, updated, 'support.picked_up', [updated.departmentId], {
          operator: { id: p.actor.id, name: p.actor.name },
        }),
        audit: {
          action: 'support.picked_up',
          details: { reference_id: chat.referenceId, department_id: chat.departmentId },
        },
      },
    ]);
    return updated;
  });
  return freshView(ctx, p, picked);
}

export interface TransferInput {
  /** Hand a connected chat to this operator (they become its attender). */
  operatorId?: string | undefined;
  /** Move the chat to this department: a waiting chat changes queue; with operatorId, a connected chat is re-filed. */
  departmentId?: string | undefined;
}

/**
 * Transfers a chat. With `operatorId`, a connected chat gets a new attender, who joins it
 * (`chat_not_connected` 409 otherwise; `operator_not_found` 404; `not_an_operator` 400;
 * `operator_not_in_department` 409 when they do not serve its department; `already_attending`
 * 409). With only `departmentId`, a waiting chat moves to that department's queue
 * (`chat_not_waiting` 409 for a connected chat; `already_in_department` 409). Either way the
 * visitor's one open chat per department holds (`visitor_has_open_chat` 409); a chat whose
 * department or attender changed meanwhile is `chat_changed` (409).
 */
export async function transferChat(
  ctx: AppContext,
  p: Principal,
  id: string,
  input: TransferInput,
): Promise<SupportChatView> {
  if (input.operatorId === undefined && input.departmentId === undefined)
    throw ValidationError.field('body', 'must name operator_id or department_id', 'invalid_transfer');
  const chat = await loadSupportChat(ctx.db, p, id);
  const mine = isStaff(p) ? await findOperatorDepartmentIds(ctx.db, p.actor.id) : [];
  let department: Department | undefined;
  if (input.departmentId !== undefined) {
    department = await findDepartment(ctx.db, p.orgId, input.departmentId);
    if (!department)
      throw new NotFoundError('department_not_found', `Department ${input.departmentId} not found`);
  }
  const targetDepartment = department?.id ?? chat.departmentId;
  let target: Actor | undefined;
  let action: SupportAction;
  if (input.operatorId !== undefined) {
    action = 'transfer';
    authorize(canTransfer(p, chat));
    target = await findActor(ctx.db, p.orgId, input.operatorId);
    if (!target?.active)
      throw new NotFoundError('operator_not_found', `Operator ${input.operatorId} not found`);
    if (!isStaffActor(target))
      throw ValidationError.field(
        'body.operator_id',
        'must be a user with the role operator, admin or owner',
        'not_an_operator',
      );
    if (!servesDepartment(target, await findOperatorDepartmentIds(ctx.db, target.id), targetDepartment))
      throw new ConflictError(
        'operator_not_in_department',
        `${target.name} is not an operator of that department`,
      );
    if (target.id === chat.attenderId && targetDepartment === chat.departmentId)
      throw new ConflictError('already_attending', `${target.name} already attends this chat`);
  } else {
    action = 'reroute';
    authorize(canReroute(p, chat, mine));
    if (targetDepartment === chat.departmentId)
      throw new ConflictError('already_in_department', 'The chat is already in that department');
  }

  const now = ctx.clock.now();
  const key = openKey(chat.visitorId, targetDepartment);
  const changes: ChatChanges = { department_id: targetDepartment, open_key: key, updated_at: now };
  if (target) changes.attender_id = target.id;
  const openElsewhere = () =>
    new ConflictError('visitor_has_open_chat', 'The visitor already has an open chat in that department');
  try {
    const moved = await inTransaction(ctx, async (tx) => {
      const other =
        targetDepartment === chat.departmentId ? undefined : await findOpenChatByKey(tx.db, p.orgId, key);
      if (other && other.id !== chat.id) throw openElsewhere();
      const updated = await transitionChat(tx.db, p.orgId, chat.id, fromStates(action), changes, {
        departmentId: chat.departmentId,
        attenderId: chat.attenderId,
      });
      if (!updated) throw await conflictFor(tx.db, p.orgId, chat.id, action);
      if (target && (await joinSupportChat(tx.db, p.orgId, chat.id, target.id, 'member', now)))
        await adjustMemberCount(tx.db, chat.id, 1, now);
      const extra = {
        from_department_id: chat.departmentId,
        from_attender_id: chat.attenderId,
        by: { id: p.actor.id, name: p.actor.name },
      };
      tx.emitAudited(p.orgId, p.actor.id, [
        {
          event: await supportEvent(
            tx.db,
            updated,
            'support.transferred',
            [chat.departmentId, targetDepartment],
            extra,
          ),
          audit: {
            action: 'support.transferred',
            details: {
              reference_id: chat.referenceId,
              from_department_id: chat.departmentId,
              to_department_id: targetDepartment,
              from_attender_id: chat.attenderId,
              to_attender_id: updated.attenderId,
            },
          },
        },
      ]);
      return updated;
    });
    return freshView(ctx, p, moved);
  } catch (err) {
    // A concurrent start took the visitor's open slot in that department between check and update.
    if (isUniqueViolation(err)) throw openElsewhere();
    throw err;
  }
}

/**
 * Ends a waiting or connected chat (`chat_not_open` 409 once it has ended or was missed). The
 * visitor may end their own chat; staff the chats they attend or own, admins any, and staff of
 * the department a waiting one (`not_chat_attender`, `operator_role_required` 403).
 */
export async function endChat(ctx: AppContext, p: Principal, id: string): Promise<SupportChatView> {
  const chat = await loadSupportChat(ctx.db, p, id);
  const mine = isStaff(p) ? await findOperatorDepartmentIds(ctx.db, p.actor.id) : [];
  authorize(canEnd(p, chat, mine));
  const now = ctx.clock.now();
  const ended = await inTransaction(ctx, async (tx) => {
    // Staff may end it because they attend it or serve its department: that must still hold.
    const byRight = isOrgAdmin(p) || p.actor.id === chat.visitorId;
    const updated = await transitionChat(
      tx.db,
      p.orgId,
      chat.id,
      fromStates('end'),
      { state: nextState('end'), ended_at: now, open_key: null, updated_at: now },
      byRight ? {} : { departmentId: chat.departmentId, attenderId: chat.attenderId },
    );
    if (!updated) throw await conflictFor(tx.db, p.orgId, chat.id, 'end');
    tx.emitAudited(p.orgId, p.actor.id, [
      {
        event: await supportEvent(tx.db, updated, 'support.ended', [updated.departmentId], {
          by: { id: p.actor.id, name: p.actor.name },
        }),
        audit: { action: 'support.ended', details: { reference_id: chat.referenceId, was: chat.state } },
      },
    ]);
    return updated;
  });
  return freshView(ctx, p, ended);
}

const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Periodic: chats that have waited longer than their org's `missed_after_seconds` become
 * `missed` (their open-chat key is released), by compare-and-set so a pickup that wins the race
 * keeps its chat. Works in chunks of `chunk` chats per transaction. Returns how many.
 */
export async function markMissedChats(ctx: AppContext, opts: { chunk?: number } = {}): Promise<number> {
  const chunk = opts.chunk ?? 100;
  let total = 0;
  for (const orgId of await findOrgsWithWaitingChats(ctx.db)) {
    const settings = supportSettingsFrom(await findOrgSettings(ctx.db, orgId));
    for (;;) {
      const now = ctx.clock.now();
      const missed = await inTransaction(ctx, async (tx) => {
        const rows = await markChatsMissed(
          tx.db,
          orgId,
          now - settings.missedAfterSeconds * 1000,
          now,
          chunk,
        );
        const members = await findCurrentMemberIdsOf(
          tx.db,
          rows.map((c) => c.id),
        );
        const staff = new Map<string, string[]>();
        const events: NewEvent[] = [];
        for (const c of rows) {
          if (!staff.has(c.departmentId))
            staff.set(c.departmentId, await findDepartmentStaffIds(tx.db, orgId, c.departmentId));
          events.push({
            type: 'support.missed',
            conversationId: c.id,
            recipients: [...(members.get(c.id) ?? []), ...(staff.get(c.departmentId) ?? [])],
            payload: eventPayload(c),
          });
        }
        tx.emit(orgId, events);
        return rows.length;
      });
      total += missed;
      if (missed < chunk) break;
      await yieldToOthers();
    }
  }
  return total;
}

/** The org's support settings (anyone in the org may read them). */
export async function getSupportSettings(ctx: AppContext, p: Principal): Promise<SupportSettings> {
  return supportSettingsFrom(await findOrgSettings(ctx.db, p.orgId));
}

/**
 * Changes the org's support settings (owners and admins: `admin_role_required` 403; out-of-range
 * values `invalid_setting` 400). A new retention applies to conversations already in the bin
 * too: their purge time becomes their deletion time plus the new retention.
 */
export async function updateSupportSettings(
  ctx: AppContext,
  p: Principal,
  patch: Partial<SupportSettings>,
): Promise<SupportSettings> {
  authorize(canManageSupport(p));
  const check = (v: number | undefined, range: { min: number; max: number }, path: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < range.min || v > range.max))
      throw ValidationError.field(
        path,
        `must be an integer from ${range.min} to ${range.max}`,
        'invalid_setting',
      );
  };
  check(patch.recycleBinDays, RECYCLE_BIN_DAYS_RANGE, 'body.recycle_bin_days');
  check(patch.missedAfterSeconds, MISSED_AFTER_SECONDS_RANGE, 'body.missed_after_seconds');
  if (patch.missedAfterSeconds !== undefined)
    await updateOrgSetting(ctx.db, p.orgId, SETTING_KEYS.missedAfterSeconds, patch.missedAfterSeconds);
  if (patch.recycleBinDays !== undefined) {
    await updateOrgSetting(ctx.db, p.orgId, SETTING_KEYS.recycleBinDays, patch.recycleBinDays);
    const settings = await getSupportSettings(ctx, p);
    await reschedulePurges(ctx.db, p.orgId, retentionMs(settings), ctx.clock.now());
  }
  return getSupportSettings(ctx, p);
}
