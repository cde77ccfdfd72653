import type { AppContext } from '../context.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Actor, Department, SupportChat, SupportState } from '../domain/model.ts';
import { authorize } from '../domain/policies/decision.ts';
import { canManageSupport, canViewQueue, servedDepartments } from '../domain/policies/support.ts';
import type { Principal } from '../domain/principal.ts';
import { type Availability, type CannedResponse, SHORTCUT, type WidgetChat } from '../domain/widget.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { findActor, findActorsByIds } from '../store/repos/actors.ts';
import {
  findDepartment,
  findDepartmentsByIds,
  findOperatorDepartmentIds,
  listDepartments,
} from '../store/repos/support.ts';
import {
  countOpenByAttender,
  countWaitingByDepartment,
  deleteCannedRow,
  findAvailableStaff,
  findCanned,
  findWidgetById,
  findWidgetChat,
  findWidgetChats,
  insertCanned,
  listCannedRows,
  listChatsOfVisitor,
  listStaffAvailability,
  listSupportChatRows,
  setAvailabilityRow,
  updateCannedRow,
} from '../store/repos/widgets.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { loadSupportChat } from './support.ts';
import { announceAvailabilityChange } from './support-availability.ts';

/**
 * The server side of the operators' workspace: availability (available / away, kept in the
 * database so every node routes and answers widgets the same way), queue counts, the visitor
 * panel of a support chat, and the org's canned responses.
 */

/* ------------------------------------------------------------------ availability */

export interface StaffAvailability {
  actorId: string;
  name: string;
  role: string;
  status: Availability;
  updatedAt: number | null;
  openChats: number;
}

/** Sets the caller's availability (staff only: `operator_role_required` 403). */
export async function setMyAvailability(
  ctx: AppContext,
  p: Principal,
  status: Availability,
): Promise<StaffAvailability> {
  authorize(canViewQueue(p));
  await announceAvailabilityChange(
    ctx,
    p.orgId,
    () => setAvailabilityRow(ctx.db, p.orgId, p.actor.id, status, ctx.clock.now()),
    { actorId: p.actor.id, status },
  );
  const me = (await listAvailability(ctx, p)).find((a) => a.actorId === p.actor.id);
  if (!me) throw new NotFoundError('actor_not_found', 'You are not staff of this org');
  return me;
}

/** Sets another operator's availability (owners and admins). */
export async function setAvailabilityOf(
  ctx: AppContext,
  p: Principal,
  actorId: string,
  status: Availability,
): Promise<StaffAvailability> {
  authorize(canManageSupport(p));
  const target = (await listAvailability(ctx, p)).find((a) => a.actorId === actorId);
  if (!target) throw new NotFoundError('operator_not_found', `Operator ${actorId} not found`);
  await announceAvailabilityChange(
    ctx,
    p.orgId,
    () => setAvailabilityRow(ctx.db, p.orgId, actorId, status, ctx.clock.now()),
    { actorId, status },
  );
  return { ...target, status, updatedAt: ctx.clock.now() };
}

/** Every staff member's availability and open chats (staff only). Never set means away. */
export async function listAvailability(ctx: AppContext, p: Principal): Promise<StaffAvailability[]> {
  authorize(canViewQueue(p));
  const [staff, open] = await Promise.all([
    listStaffAvailability(ctx.db, p.orgId),
    countOpenByAttender(ctx.db, p.orgId),
  ]);
  return staff.map((s) => ({ ...s, openChats: open.get(s.actorId) ?? 0 }));
}

/* ------------------------------------------------------------------ queue counts */

export interface QueueCount {
  department: Department;
  waiting: number;
  availableOperators: number;
}

/** Waiting chats per department the caller serves, and how many of its operators are available. */
export async function queueCounts(ctx: AppContext, p: Principal): Promise<QueueCount[]> {
  authorize(canViewQueue(p));
  const served = servedDepartments(p, await findOperatorDepartmentIds(ctx.db, p.actor.id));
  const all = await listDepartments(ctx.db, p.orgId, { limit: 1000 });
  const departments = served === 'all' ? all : all.filter((d) => served?.includes(d.id));
  const waiting = await countWaitingByDepartment(ctx.db, p.orgId);
  const out: QueueCount[] = [];
  for (const d of departments)
    out.push({
      department: d,
      waiting: waiting.get(d.id) ?? 0,
      availableOperators: (await findAvailableStaff(ctx.db, p.orgId, d.id)).length,
    });
  return out;
}

/* ------------------------------------------------------------------ chat list */

export interface ChatListItem {
  chat: SupportChat;
  department: Department | null;
  visitor: Actor | null;
  attender: Actor | null;
  widgetChat: WidgetChat | null;
}

/**
 * The support chats staff work from, newest first: by state (`missed` for the messages left
 * while nobody could answer), department, visitor, or `mine` (the open chats the caller
 * attends). Operators with departments see those departments' chats and the ones they attend.
 */
export async function listSupportChats(
  ctx: AppContext,
  p: Principal,
  input: {
    states?: SupportState[] | undefined;
    departmentId?: string | undefined;
    visitorId?: string | undefined;
    mine?: boolean | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<{ items: ChatListItem[]; nextCursor: string | null }> {
  authorize(canViewQueue(p));
  const served = servedDepartments(p, await findOperatorDepartmentIds(ctx.db, p.actor.id));
  let departmentIds: readonly string[] | null = served === 'all' ? null : (served ?? []);
  if (input.departmentId !== undefined) {
    const d = await findDepartment(ctx.db, p.orgId, input.departmentId);
    if (!d) throw new NotFoundError('department_not_found', `Department ${input.departmentId} not found`);
    departmentIds = departmentIds === null || departmentIds.includes(d.id) ? [d.id] : [];
  }
  const before = input.cursor ? decodeCursor(input.cursor, 'support-chats', ['int', 'id']) : undefined;
  const rows = await listSupportChatRows(ctx.db, p.orgId, {
    states: input.mine ? (input.states ?? ['waiting', 'connected']) : input.states,
    departmentIds: input.mine ? null : departmentIds,
    orAttender: p.actor.id,
    visitorId: input.visitorId,
    attenderId: input.mine ? p.actor.id : undefined,
    before: before ? { createdAt: Number(before[0]), id: String(before[1]) } : undefined,
    limit: input.limit + 1,
  });
  const { items: page, nextCursor } = keysetPage(rows, input.limit, 'support-chats', (last) => [
    last.createdAt,
    last.id,
  ]);
  const actorIds = [
    ...new Set(page.flatMap((c) => [c.visitorId, c.attenderId]).filter((x): x is string => x !== null)),
  ];
  const [actors, departments, widgetChats] = await Promise.all([
    findActorsByIds(ctx.db, p.orgId, actorIds),
    findDepartmentsByIds(ctx.db, p.orgId, [...new Set(page.map((c) => c.departmentId))]),
    findWidgetChats(
      ctx.db,
      page.map((c) => c.id),
    ),
  ]);
  const actor = new Map(actors.map((a) => [a.id, a]));
  const department = new Map(departments.map((d) => [d.id, d]));
  return {
    items: page.map((chat) => ({
      chat,
      department: department.get(chat.departmentId) ?? null,
      visitor: actor.get(chat.visitorId) ?? null,
      attender: chat.attenderId ? (actor.get(chat.attenderId) ?? null) : null,
      widgetChat: widgetChats.get(chat.id) ?? null,
    })),
    nextCursor,
  };
}

/* ------------------------------------------------------------------ visitor panel */

export interface VisitorPanel {
  chat: SupportChat;
  visitor: Actor | null;
  department: Department | null;
  widgetChat: WidgetChat | null;
  widgetName: string | null;
  previousChats: SupportChat[];
}

/** What operators see beside a support chat: the visitor, the page, the visitor's earlier chats. */
export async function visitorPanel(ctx: AppContext, p: Principal, id: string): Promise<VisitorPanel> {
  // Who may not see the chat learns nothing (404); a visitor may see their own, but not this.
  const chat = await loadSupportChat(ctx.db, p, id);
  authorize(canViewQueue(p));
  const [visitor, department, widgetChat, chats] = await Promise.all([
    findActor(ctx.db, p.orgId, chat.visitorId),
    findDepartment(ctx.db, p.orgId, chat.departmentId),
    findWidgetChat(ctx.db, chat.id),
    listChatsOfVisitor(ctx.db, p.orgId, chat.visitorId, 21),
  ]);
  const widget = widgetChat ? await findWidgetById(ctx.db, widgetChat.widgetId) : undefined;
  return {
    chat,
    visitor: visitor ?? null,
    department: department ?? null,
    widgetChat: widgetChat ?? null,
    widgetName: widget?.name ?? null,
    previousChats: chats.filter((c) => c.id !== chat.id).slice(0, 20),
  };
}

/* ------------------------------------------------------------------ canned responses */

const cannedNotFound = (id: string) =>
  new NotFoundError('canned_response_not_found', `Canned response ${id} not found`);

function checkShortcut(s: string): string {
  const v = s.startsWith('/') ? s.slice(1) : s;
  if (!SHORTCUT.test(v))
    throw ValidationError.field(
      'body.shortcut',
      'must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit',
      'invalid_shortcut',
    );
  return v;
}

const shortcutTaken = (s: string) =>
  new ConflictError('shortcut_taken', `The org already has a canned response /${s}`, { shortcut: s });

/** The org's canned responses (staff), oldest first; `prefix` for the composer's `/` completion. */
export async function listCannedResponses(
  ctx: AppContext,
  p: Principal,
  input: { prefix?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: CannedResponse[]; nextCursor: string | null }> {
  authorize(canViewQueue(p));
  const after = input.cursor ? String(decodeCursor(input.cursor, 'canned', ['id'])[0]) : undefined;
  const prefix = input.prefix?.replace(/^\//, '').toLowerCase();
  const rows = await listCannedRows(ctx.db, p.orgId, { prefix, afterId: after, limit: input.limit + 1 });
  return keysetPage(rows, input.limit, 'canned', (last) => [last.id]);
}

export async function getCannedResponse(ctx: AppContext, p: Principal, id: string): Promise<CannedResponse> {
  authorize(canViewQueue(p));
  const c = await findCanned(ctx.db, p.orgId, id);
  if (!c) throw cannedNotFound(id);
  return c;
}

/** Creates a canned response (owners and admins; `shortcut_taken` 409). */
export async function createCannedResponse(
  ctx: AppContext,
  p: Principal,
  input: { shortcut: string; title?: string | undefined; text: string },
): Promise<CannedResponse> {
  authorize(canManageSupport(p));
  const shortcut = checkShortcut(input.shortcut);
  const now = ctx.clock.now();
  const c: CannedResponse = {
    id: ctx.ids.next(),
    orgId: p.orgId,
    shortcut,
    title: input.title ?? shortcut,
    text: input.text,
    createdBy: p.actor.id,
    createdAt: now,
    updatedAt: now,
  };
  if (!(await insertCanned(ctx.db, c))) throw shortcutTaken(shortcut);
  return c;
}

export async function updateCannedResponse(
  ctx: AppContext,
  p: Principal,
  id: string,
  input: { shortcut?: string | undefined; title?: string | undefined; text?: string | undefined },
): Promise<CannedResponse> {
  authorize(canManageSupport(p));
  const c = await findCanned(ctx.db, p.orgId, id);
  if (!c) throw cannedNotFound(id);
  const next: CannedResponse = { ...c, updatedAt: ctx.clock.now() };
  if (input.shortcut !== undefined) next.shortcut = checkShortcut(input.shortcut);
  if (input.title !== undefined) next.title = input.title;
  if (input.text !== undefined) next.text = input.text;
  try {
    await updateCannedRow(ctx.db, next);
  } catch (err) {
    if (isUniqueViolation(err)) throw shortcutTaken(next.shortcut);
    throw err;
  }
  return next;
}

export async function deleteCannedResponse(ctx: AppContext, p: Principal, id: string): Promise<void> {
  authorize(canManageSupport(p));
  if (!(await deleteCannedRow(ctx.db, p.orgId, id))) throw cannedNotFound(id);
}
