import { randomBytes } from 'node:crypto';
import { hashToken } from '../auth/tokens.ts';
import type { AppContext, Db, EventSink } from '../context.ts';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
} from '../domain/errors.ts';
import type { Actor, Department, Message, SupportChat } from '../domain/model.ts';
import { authorize } from '../domain/policies/decision.ts';
import { canManageSupport } from '../domain/policies/support.ts';
import type { Principal } from '../domain/principal.ts';
import type { HoursState } from '../domain/support-hours.ts';
import {
  COLOUR,
  canonicalOrigin,
  DEFAULT_PRECHAT,
  identityMatches,
  MAX_ORIGINS,
  MAX_WIDGET_DEPARTMENTS,
  type Prechat,
  VISITOR_SESSION_MS,
  VISITOR_TOKEN_PREFIX,
  type Widget,
  type WidgetChat,
} from '../domain/widget.ts';
import { isUniqueViolation } from '../store/errors.ts';
import {
  findActor,
  findActorByExternalId,
  findActorsByIds,
  insertActor,
  updateActor,
} from '../store/repos/actors.ts';
import { findOrgById } from '../store/repos/orgs.ts';
import {
  findDepartmentStaffIds,
  findDepartmentsByIds,
  findSupportChat,
  transitionChat,
} from '../store/repos/support.ts';
import {
  deleteWidgetRow,
  findAvailableStaff,
  findOpenChatOfVisitor,
  findReadPositions,
  findSession,
  findWidget,
  findWidgetAllowingOrigin,
  findWidgetById,
  findWidgetByKey,
  findWidgetChat,
  insertSession,
  insertWidget,
  insertWidgetChat,
  listChatsOfVisitor,
  listWidgetRows,
  updateWidgetRow,
} from '../store/repos/widgets.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { queueMail } from './mail.ts';
import { markRead } from './member-state.ts';
import { listMessages, sendMessage } from './messages.ts';
import { countActiveActors, withinQuota } from './quotas.ts';
import { endChat, startSupportChat } from './support.ts';
import { departmentAvailability } from './support-availability.ts';
import { TRANSCRIPT_PLACEHOLDER } from './transcripts.ts';
import { inTransaction } from './tx.ts';
import { startTyping } from './typing.ts';

/**
 * The website chat widget: admins configure widgets; visitors reach live support through a
 * widget's public key. A visitor gets a credential of their own (`pv_...`, stored hashed in
 * widget_session) that reads and writes only their own widget chats: the /v1 auth hook does not
 * know it, so every other route refuses it (401).
 */

const widgetNotFound = (id: string) => new NotFoundError('widget_not_found', `Widget ${id} not found`);

/* ------------------------------------------------------------------ admin */

export interface WidgetInput {
  name?: string | undefined;
  allowedOrigins?: string[] | undefined;
  departmentIds?: string[] | undefined;
  prechat?: Partial<Prechat> | undefined;
  greeting?: string | undefined;
  offlineMessage?: string | undefined;
  colour?: string | undefined;
}

function checkOrigins(list: string[]): string[] {
  if (list.length > MAX_ORIGINS)
    throw ValidationError.field(
      'body.allowed_origins',
      `must list at most ${MAX_ORIGINS} origins`,
      'invalid_origin',
    );
  const out: string[] = [];
  list.forEach((o, i) => {
    const c = canonicalOrigin(o);
    if (!c)
      throw ValidationError.field(
        `body.allowed_origins.${i}`,
        'must be an origin: http(s)://host[:port], without a path',
        'invalid_origin',
      );
    if (!out.includes(c)) out.push(c);
  });
  return out;
}

async function checkDepartments(ctx: AppContext, orgId: string, ids: string[]): Promise<string[]> {
  if (ids.length > MAX_WIDGET_DEPARTMENTS)
    throw ValidationError.field(
      'body.department_ids',
      `must list at most ${MAX_WIDGET_DEPARTMENTS}`,
      'invalid_department',
    );
  const unique = [...new Set(ids)];
  const found = new Set((await findDepartmentsByIds(ctx.db, orgId, unique)).map((d) => d.id));
  unique.forEach((id) => {
    if (!found.has(id))
      throw ValidationError.field(
        `body.department_ids.${ids.indexOf(id)}`,
        `names no department of this org (${id})`,
        'department_not_found',
      );
  });
  return unique;
}

function checkColour(c: string): string {
  if (!COLOUR.test(c)) throw ValidationError.field('body.colour', 'must be #rrggbb', 'invalid_colour');
  return c.toLowerCase();
}

const newKey = () => `wk_${randomBytes(12).toString('base64url')}`;
const newSecret = () => randomBytes(32).toString('base64url');

/** Creates a widget (owners and admins). It needs at least one department to route chats to. */
export async function createWidget(ctx: AppContext, p: Principal, input: WidgetInput): Promise<Widget> {
  authorize(canManageSupport(p));
  const departmentIds = await checkDepartments(ctx, p.orgId, input.departmentIds ?? []);
  if (departmentIds.length === 0)
    throw ValidationError.field(
      'body.department_ids',
      'must name at least one department',
      'invalid_department',
    );
  const now = ctx.clock.now();
  const w: Widget = {
    id: ctx.ids.next(),
    orgId: p.orgId,
    publicKey: newKey(),
    secret: newSecret(),
    name: input.name ?? 'Website',
    allowedOrigins: checkOrigins(input.allowedOrigins ?? []),
    departmentIds,
    prechat: { ...DEFAULT_PRECHAT, ...(input.prechat ?? {}) },
    greeting: input.greeting ?? 'Hi! How can we help?',
    offlineMessage:
      input.offlineMessage ?? "We're away right now. Leave a message and we'll write back by email.",
    colour: checkColour(input.colour ?? '#2563eb'),
    createdAt: now,
    updatedAt: now,
  };
  await insertWidget(ctx.db, w);
  return w;
}

export async function getWidget(ctx: AppContext, p: Principal, id: string): Promise<Widget> {
  authorize(canManageSupport(p));
  const w = await findWidget(ctx.db, p.orgId, id);
  if (!w) throw widgetNotFound(id);
  return w;
}

export async function listWidgets(
  ctx: AppContext,
  p: Principal,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ items: Widget[]; nextCursor: string | null }> {
  authorize(canManageSupport(p));
  const after = input.cursor ? String(decodeCursor(input.cursor, 'widgets', ['id'])[0]) : undefined;
  const rows = await listWidgetRows(ctx.db, p.orgId, { afterId: after, limit: input.limit + 1 });
  return keysetPage(rows, input.limit, 'widgets', (last) => [last.id]);
}

/** Changes a widget; `rotateSecret` issues a new identity secret (signatures made with the old one stop working). */
export async function updateWidget(
  ctx: AppContext,
  p: Principal,
  id: string,
  input: WidgetInput & { rotateSecret?: boolean | undefined },
): Promise<Widget> {
  const w = await getWidget(ctx, p, id);
  const next: Widget = { ...w, updatedAt: ctx.clock.now() };
  if (input.name !== undefined) next.name = input.name;
  if (input.allowedOrigins !== undefined) next.allowedOrigins = checkOrigins(input.allowedOrigins);
  if (input.departmentIds !== undefined) {
    next.departmentIds = await checkDepartments(ctx, p.orgId, input.departmentIds);
    if (next.departmentIds.length === 0)
      throw ValidationError.field(
        'body.department_ids',
        'must name at least one department',
        'invalid_department',
      );
  }
  if (input.prechat !== undefined) next.prechat = { ...w.prechat, ...input.prechat };
  if (input.greeting !== undefined) next.greeting = input.greeting;
  if (input.offlineMessage !== undefined) next.offlineMessage = input.offlineMessage;
  if (input.colour !== undefined) next.colour = checkColour(input.colour);
  if (input.rotateSecret) next.secret = newSecret();
  await updateWidgetRow(ctx.db, next);
  return next;
}

/** Deletes a widget; its visitors' credentials stop working (their chats stay). */
export async function deleteWidget(ctx: AppContext, p: Principal, id: string): Promise<void> {
  authorize(canManageSupport(p));
  if (!(await deleteWidgetRow(ctx.db, p.orgId, id))) throw widgetNotFound(id);
}

/* ------------------------------------------------------------------ public */

/** A widget by its public key (`widget_not_found` 404). */
export async function widgetByKey(ctx: AppContext, key: string): Promise<Widget> {
  const w = await findWidgetByKey(ctx.db, key);
  if (!w) throw new NotFoundError('widget_not_found', 'No widget has this key');
  return w;
}

/** Whether some widget allows `origin` (a CORS preflight names no widget). */
export async function someWidgetAllows(ctx: AppContext, origin: string): Promise<boolean> {
  const o = canonicalOrigin(origin);
  return o !== null && (await findWidgetAllowingOrigin(ctx.db, o));
}

/** A widget by its public key, or undefined. */
export function findPublicWidget(ctx: AppContext, key: string): Promise<Widget | undefined> {
  return findWidgetByKey(ctx.db, key);
}

export interface DepartmentStatus {
  department: Department;
  online: boolean;
  /** Open by its opening hours now (always, without hours), and when that changes. */
  hours: HoursState;
}

/**
 * The widget's departments, in its order, each online when it is open by its opening hours and
 * an available operator serves it.
 */
export async function widgetDepartments(ctx: AppContext, w: Widget): Promise<DepartmentStatus[]> {
  return (await departmentAvailability(ctx, w.orgId, w.departmentIds)).map((a) => ({
    department: a.department,
    online: a.online,
    hours: a.hours,
  }));
}

export interface VisitorSession {
  principal: Principal;
  widget: Widget;
}

/**
 * A new visitor credential for the widget. With `identity` (a user id the site signed with the
 * widget's secret) the visitor is the org's visitor with that external id on every device
 * (`invalid_identity` 401 for a bad signature; `external_id_taken` 409 when a staff member has
 * that external id); otherwise a new anonymous visitor.
 */
export async function createVisitorSession(
  ctx: AppContext,
  w: Widget,
  input: {
    identity?: { userId: string; signature: string } | undefined;
    name?: string | undefined;
    email?: string | undefined;
    ip?: string | undefined;
  },
): Promise<{ token: string; visitor: Actor; expiresAt: number }> {
  const now = ctx.clock.now();
  let visitor: Actor | undefined;
  if (input.identity) {
    if (!identityMatches(input.identity.userId, input.identity.signature, w.secret))
      throw new UnauthenticatedError(
        'invalid_identity',
        'identity.signature is not HMAC-SHA256(identity.user_id, widget secret) in hex',
      );
    const existing = await findActorByExternalId(ctx.db, w.orgId, input.identity.userId);
    if (existing && existing.kind !== 'visitor')
      throw new ConflictError('external_id_taken', 'This user id belongs to someone who is not a visitor');
    if (existing && !existing.active)
      throw new ForbiddenError('visitor_deactivated', 'This visitor was deactivated');
    if (existing) {
      visitor =
        input.name !== undefined || input.email !== undefined
          ? await updateActor(ctx.db, w.orgId, existing.id, { name: input.name, email: input.email }, now)
          : existing;
    }
  }
  if (!visitor) {
    const actor: Actor = {
      id: ctx.ids.next(),
      orgId: w.orgId,
      kind: 'visitor',
      role: null,
      name: input.name ?? `Visitor ${randomBytes(2).readUInt16BE() % 10000}`,
      email: input.email ?? null,
      externalId: input.identity?.userId ?? null,
      phone: null,
      ip: input.ip ?? null,
      country: null,
      channel: 'website',
      active: true,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await withinQuota(
        ctx,
        w.orgId,
        {
          quota: 'actors',
          limit: ctx.config.quotas.actors,
          adding: 1,
          what: 'The org has as many actors as it may',
          count: (tx) => countActiveActors(tx.db, w.orgId),
        },
        (tx) => insertActor(tx.db, actor),
      );
      visitor = actor;
    } catch (err) {
      // Two devices of one signed customer raced: the other one created them.
      const raced =
        input.identity &&
        isUniqueViolation(err) &&
        (await findActorByExternalId(ctx.db, w.orgId, input.identity.userId));
      if (raced === false || raced?.kind !== 'visitor') throw err;
      visitor = raced;
    }
  }
  const token = VISITOR_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const expiresAt = now + VISITOR_SESSION_MS;
  await insertSession(ctx.db, {
    tokenHash: hashToken(token),
    orgId: w.orgId,
    widgetId: w.id,
    visitorId: visitor!.id,
    createdAt: now,
    expiresAt,
  });
  return { token, visitor: visitor!, expiresAt };
}

/**
 * The visitor behind a widget credential. Unknown or expired credentials, deleted widgets and
 * deactivated visitors all answer `invalid_visitor_token` (401).
 */
export async function authenticateVisitor(ctx: AppContext, token: string): Promise<VisitorSession> {
  const invalid = () =>
    new UnauthenticatedError('invalid_visitor_token', 'The visitor credential is invalid or expired');
  if (!token.startsWith(VISITOR_TOKEN_PREFIX) || token.length > 200) throw invalid();
  const s = await findSession(ctx.db, hashToken(token));
  if (!s || s.expiresAt <= ctx.clock.now()) throw invalid();
  const [widget, visitor] = await Promise.all([
    findWidgetById(ctx.db, s.widgetId),
    findActor(ctx.db, s.orgId, s.visitorId),
  ]);
  if (!widget || !visitor?.active || visitor.kind !== 'visitor') throw invalid();
  return {
    widget,
    // The services check membership and policy; this principal's scopes only matter on the
    // stream, where it may read (not send: visitors send through the widget's routes).
    principal: { orgId: s.orgId, actor: visitor, scopes: new Set(['messages:read']), tokenId: null },
  };
}

/* ------------------------------------------------------------------ visitor */

export interface VisitorChatView {
  chat: SupportChat;
  department: Department | null;
  operator: Actor | null;
  widgetChat: WidgetChat | null;
  /** The newest message any operator of the chat has read. */
  operatorReadMessageId: string | null;
  visitorReadMessageId: string | null;
}

const chatNotFound = (id: string) =>
  new NotFoundError('conversation_not_found', `Conversation ${id} not found`);

/** One of the visitor's own support chats (`conversation_not_found` 404 for anything else). */
async function ownChat(ctx: AppContext, v: VisitorSession, id: string): Promise<SupportChat> {
  const chat = await findSupportChat(ctx.db, v.principal.orgId, id);
  if (!chat || chat.visitorId !== v.principal.actor.id) throw chatNotFound(id);
  return chat;
}

async function visitorView(ctx: AppContext, chat: SupportChat): Promise<VisitorChatView> {
  const [departments, reads, widgetChat] = await Promise.all([
    findDepartmentsByIds(ctx.db, chat.orgId, [chat.departmentId]),
    findReadPositions(ctx.db, chat.id),
    findWidgetChat(ctx.db, chat.id),
  ]);
  const operator = chat.attenderId ? ((await findActor(ctx.db, chat.orgId, chat.attenderId)) ?? null) : null;
  let operatorRead: string | null = null;
  let visitorRead: string | null = null;
  for (const r of reads) {
    if (r.actorId === chat.visitorId) visitorRead = r.readMessageId;
    else if (
      r.readMessageId !== null &&
      (operatorRead === null || BigInt(r.readMessageId) > BigInt(operatorRead))
    )
      operatorRead = r.readMessageId;
  }
  return {
    chat,
    department: departments[0] ?? null,
    operator,
    widgetChat: widgetChat ?? null,
    operatorReadMessageId: operatorRead,
    visitorReadMessageId: visitorRead,
  };
}

export async function getVisitorChat(
  ctx: AppContext,
  v: VisitorSession,
  id: string,
): Promise<VisitorChatView> {
  return visitorView(ctx, await ownChat(ctx, v, id));
}

/** The visitor and their open chat (or their latest, ended one; null when they have none). */
export async function visitorHome(
  ctx: AppContext,
  v: VisitorSession,
): Promise<{ visitor: Actor; chat: VisitorChatView | null }> {
  const open =
    (await findOpenChatOfVisitor(ctx.db, v.principal.orgId, v.principal.actor.id)) ??
    (await listChatsOfVisitor(ctx.db, v.principal.orgId, v.principal.actor.id, 1))[0];
  const visitor = (await findActor(ctx.db, v.principal.orgId, v.principal.actor.id)) ?? v.principal.actor;
  return { visitor, chat: open ? await visitorView(ctx, open) : null };
}

function pickDepartment(w: Widget, departmentId: string | undefined): string {
  if (departmentId === undefined) {
    const first = w.departmentIds[0];
    if (!first) throw new ConflictError('widget_has_no_department', 'This widget offers no department');
    return first;
  }
  if (!w.departmentIds.includes(departmentId))
    throw ValidationError.field(
      'body.department_id',
      'is not a department this widget offers',
      'invalid_department',
    );
  return departmentId;
}

function checkPrechat(
  w: Widget,
  input: { name?: string | undefined; email?: string | undefined },
  fields: ('name' | 'email')[],
) {
  for (const f of fields) {
    if (w.prechat[f] === 'required' && !input[f])
      throw ValidationError.field(`body.${f}`, 'is required by this widget', 'prechat_field_required');
  }
}

export interface StartWidgetChatInput {
  departmentId?: string | undefined;
  name?: string | undefined;
  email?: string | undefined;
  question?: string | undefined;
  pageUrl?: string | undefined;
}

/**
 * Starts the visitor's chat, or returns the one they have open (`created: false`): a visitor
 * has one open chat, whatever the department, tab or device. Needs an available operator
 * serving the department (`no_operator_available` 409: show the offline form).
 */
export async function startWidgetChat(
  ctx: AppContext,
  v: VisitorSession,
  input: StartWidgetChatInput,
): Promise<{ view: VisitorChatView; created: boolean }> {
  const { widget: w, principal: p } = v;
  const existing = await findOpenChatOfVisitor(ctx.db, p.orgId, p.actor.id);
  if (existing) return { view: await visitorView(ctx, existing), created: false };
  const departmentId = pickDepartment(w, input.departmentId);
  checkPrechat(w, input, ['name', 'email']);
  if (w.prechat.question === 'required' && !input.question)
    throw ValidationError.field('body.question', 'is required by this widget', 'prechat_field_required');
  const [availability] = await departmentAvailability(ctx, p.orgId, [departmentId]);
  if (availability && !availability.hours.open)
    throw new ConflictError('department_closed', 'We are closed now: leave a message instead', {
      department_id: departmentId,
      opens_at:
        availability.hours.opensAt === null ? null : new Date(availability.hours.opensAt).toISOString(),
    });
  if ((await findAvailableStaff(ctx.db, p.orgId, departmentId)).length === 0)
    throw new ConflictError('no_operator_available', 'Nobody can answer right now: leave a message instead', {
      department_id: departmentId,
    });
  const visitor = await refreshVisitor(ctx, p, input);
  const principal = { ...p, actor: visitor };
  let chat: SupportChat;
  try {
    const view = await startSupportChat(ctx, principal, {
      departmentId,
      question: input.question || 'Chat started from the website',
      channel: 'website',
    });
    chat = view.chat;
  } catch (err) {
    // Another tab started it a moment ago: continue that chat.
    const open = await findOpenChatOfVisitor(ctx.db, p.orgId, p.actor.id);
    if (open && (err as { code?: string }).code === 'visitor_has_open_chat')
      return { view: await visitorView(ctx, open), created: false };
    throw err;
  }
  await insertWidgetChat(ctx.db, {
    conversationId: chat.id,
    orgId: p.orgId,
    widgetId: w.id,
    visitorId: visitor.id,
    pageUrl: input.pageUrl ?? null,
    email: input.email ?? visitor.email,
    offline: false,
    createdAt: chat.createdAt,
  });
  return {
    view: await visitorView(ctx, (await findSupportChat(ctx.db, p.orgId, chat.id)) ?? chat),
    created: true,
  };
}

async function refreshVisitor(
  ctx: AppContext,
  p: Principal,
  input: { name?: string | undefined; email?: string | undefined },
): Promise<Actor> {
  if (!input.name && !input.email) return p.actor;
  return (
    (await updateActor(
      ctx.db,
      p.orgId,
      p.actor.id,
      { name: input.name || undefined, email: input.email || undefined },
      ctx.clock.now(),
    )) ?? p.actor
  );
}

export async function visitorMessages(
  ctx: AppContext,
  v: VisitorSession,
  id: string,
  input: { after?: string | undefined; before?: string | undefined; limit: number },
): Promise<{ items: Message[]; senders: Map<string, Actor>; nextCursor: string | null }> {
  const chat = await ownChat(ctx, v, id);
  const page = await listMessages(ctx, v.principal, chat.id, input);
  const senders = new Map(
    (await findActorsByIds(ctx.db, chat.orgId, [...new Set(page.items.map((m) => m.senderId))])).map((a) => [
      a.id,
      a,
    ]),
  );
  return { items: page.items, senders, nextCursor: page.nextCursor };
}

export async function visitorSend(
  ctx: AppContext,
  v: VisitorSession,
  id: string,
  input: { text: string; clientId?: string | undefined },
): Promise<{ message: Message; created: boolean }> {
  const chat = await ownChat(ctx, v, id);
  return sendMessage(ctx, v.principal, chat.id, { text: input.text, clientId: input.clientId });
}

export async function visitorTyping(ctx: AppContext, v: VisitorSession, id: string): Promise<void> {
  const chat = await ownChat(ctx, v, id);
  await startTyping(ctx, v.principal, chat.id);
}

export async function visitorRead(
  ctx: AppContext,
  v: VisitorSession,
  id: string,
  messageId?: string,
): Promise<VisitorChatView> {
  const chat = await ownChat(ctx, v, id);
  await markRead(ctx, v.principal, chat.id, messageId);
  return visitorView(ctx, chat);
}

export async function visitorEnd(ctx: AppContext, v: VisitorSession, id: string): Promise<VisitorChatView> {
  const chat = await ownChat(ctx, v, id);
  const ended = await endChat(ctx, v.principal, chat.id);
  return visitorView(ctx, ended.chat);
}

/**
 * Leave a message (when nobody can answer): a chat that is missed at once, which operators
 * find among missed chats, and a mail to the visitor that says it arrived.
 */
export async function leaveMessage(
  ctx: AppContext,
  v: VisitorSession,
  input: {
    departmentId?: string | undefined;
    name?: string | undefined;
    email: string;
    message: string;
    pageUrl?: string | undefined;
  },
): Promise<VisitorChatView> {
  const { widget: w, principal: p } = v;
  const departmentId = pickDepartment(w, input.departmentId);
  checkPrechat(w, input, ['name']);
  const open = await findOpenChatOfVisitor(ctx.db, p.orgId, p.actor.id);
  if (open)
    throw new ConflictError('visitor_has_open_chat', 'You have a chat open: write there', {
      conversation_id: open.id,
    });
  const visitor = await refreshVisitor(ctx, p, input);
  const principal = { ...p, actor: visitor };
  const started = await startSupportChat(ctx, principal, {
    departmentId,
    question: input.message,
    channel: 'website',
  });
  const org = await findOrgById(ctx.db, p.orgId);
  const now = ctx.clock.now();
  const missed = await inTransaction(ctx, async (tx) => {
    const updated = await transitionChat(tx.db, p.orgId, started.chat.id, ['waiting'], {
      state: 'missed',
      missed_at: now,
      open_key: null,
      updated_at: now,
    });
    const chat = updated ?? started.chat;
    await insertWidgetChat(tx.db, {
      conversationId: chat.id,
      orgId: p.orgId,
      widgetId: w.id,
      visitorId: visitor.id,
      pageUrl: input.pageUrl ?? null,
      email: input.email,
      offline: true,
      createdAt: now,
    });
    if (updated) {
      tx.emit(p.orgId, [
        {
          type: 'support.missed',
          conversationId: chat.id,
          recipients: [visitor.id, ...(await findDepartmentStaffIds(tx.db, p.orgId, departmentId))],
          payload: {
            conversation_id: chat.id,
            reference_id: chat.referenceId,
            state: chat.state,
            department_id: chat.departmentId,
            visitor_id: chat.visitorId,
            owner_id: null,
            attender_id: null,
            offline_message: true,
          },
        },
      ]);
    }
    await queueMail(ctx, tx.db, [
      {
        orgId: p.orgId,
        to: input.email,
        subject: `We got your message (${org?.name ?? 'support'}, #${chat.referenceId})`,
        body:
          `Hello ${visitor.name},\n\nThank you for your message. Nobody could answer right away; we will reply to ${input.email}.\n\n` +
          `Your message:\n${input.message}\n\n-- ${org?.name ?? 'Support'}\n`,
      },
    ]);
    return chat;
  });
  return visitorView(ctx, missed);
}

/* ------------------------------------------------------------------ transcript */

/**
 * Event sink: when a widget chat ends and the visitor gave an email, the transcript goes to the
 * mail outbox in the same transaction as the end.
 */
export const transcriptSink: EventSink = async (ctx, tx, events) => {
  for (const e of events) {
    if (e.type !== 'support.ended' || !e.conversationId) continue;
    await queueTranscript(ctx, tx, e.orgId, e.conversationId);
  }
};
// Acts on `support.ended` only: nothing to do for a plain send.
transcriptSink.coversPlainSend = true;

async function queueTranscript(
  ctx: AppContext,
  tx: Db,
  orgId: string,
  conversationId: string,
): Promise<void> {
  const wc = await findWidgetChat(tx, conversationId);
  if (!wc) return;
  const chat = await findSupportChat(tx, orgId, conversationId);
  if (!chat) return;
  const visitor = await findActor(tx, orgId, chat.visitorId);
  const email = wc.email ?? visitor?.email ?? null;
  if (!email) return;
  const org = await findOrgById(tx, orgId);
  // The body is rendered when the mail is sent (services/transcripts.ts), never kept here.
  await queueMail(ctx, tx, [
    {
      orgId,
      to: email,
      subject: `Transcript of your chat with ${org?.name ?? 'us'} (#${chat.referenceId})`,
      body: TRANSCRIPT_PLACEHOLDER,
      transcriptOf: chat.id,
    },
  ]);
}
