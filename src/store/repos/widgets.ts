import type { SupportChat } from '../../domain/model.ts';
import {
  type Availability,
  type CannedResponse,
  DEFAULT_PRECHAT,
  type Prechat,
  type Widget,
  type WidgetChat,
} from '../../domain/widget.ts';
import type { Db } from '../schema.ts';
import type { CannedResponseTable, WidgetChatTable, WidgetTable } from '../widget-schema.ts';
import { widgetDb } from '../widget-schema.ts';
import { toSupportChat } from './rows.ts';
import { findDepartmentStaffIds } from './support.ts';

/** Widgets, their visitor sessions and chats, operators' availability and canned responses. */

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toWidget(r: WidgetTable): Widget {
  return {
    id: String(r.id),
    orgId: String(r.org_id),
    publicKey: r.public_key,
    secret: r.secret,
    name: r.name,
    allowedOrigins: parseJson<string[]>(r.allowed_origins, []),
    departmentIds: parseJson<string[]>(r.department_ids, []).map(String),
    prechat: { ...DEFAULT_PRECHAT, ...parseJson<Partial<Prechat>>(r.prechat, {}) },
    greeting: r.greeting,
    offlineMessage: r.offline_message,
    colour: r.colour,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function widgetRow(w: Widget): WidgetTable {
  return {
    id: w.id,
    org_id: w.orgId,
    public_key: w.publicKey,
    secret: w.secret,
    name: w.name,
    allowed_origins: JSON.stringify(w.allowedOrigins),
    department_ids: JSON.stringify(w.departmentIds),
    prechat: JSON.stringify(w.prechat),
    greeting: w.greeting,
    offline_message: w.offlineMessage,
    colour: w.colour,
    created_at: w.createdAt,
    updated_at: w.updatedAt,
  };
}

export async function insertWidget(db: Db, w: Widget): Promise<void> {
  await widgetDb(db).insertInto('widget').values(widgetRow(w)).execute();
}

export async function updateWidgetRow(db: Db, w: Widget): Promise<void> {
  const { id, org_id, created_at, ...rest } = widgetRow(w);
  await widgetDb(db)
    .updateTable('widget')
    .set(rest)
    .where('org_id', '=', org_id)
    .where('id', '=', id)
    .execute();
}

export async function deleteWidgetRow(db: Db, orgId: string, id: string): Promise<boolean> {
  const res = await widgetDb(db)
    .deleteFrom('widget')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function findWidget(db: Db, orgId: string, id: string): Promise<Widget | undefined> {
  const row = await widgetDb(db)
    .selectFrom('widget')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toWidget(row) : undefined;
}

export async function findWidgetById(db: Db, id: string): Promise<Widget | undefined> {
  const row = await widgetDb(db).selectFrom('widget').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toWidget(row) : undefined;
}

export async function findWidgetByKey(db: Db, key: string): Promise<Widget | undefined> {
  const row = await widgetDb(db)
    .selectFrom('widget')
    .selectAll()
    .where('public_key', '=', key)
    .executeTakeFirst();
  return row ? toWidget(row) : undefined;
}

export async function listWidgetRows(
  db: Db,
  orgId: string,
  opts: { afterId?: string | undefined; limit: number },
): Promise<Widget[]> {
  let q = widgetDb(db).selectFrom('widget').selectAll().where('org_id', '=', orgId);
  if (opts.afterId) q = q.where('id', '>', opts.afterId);
  return (await q.orderBy('id').limit(opts.limit).execute()).map(toWidget);
}

/* Visitor sessions */

export interface WidgetSession {
  orgId: string;
  widgetId: string;
  visitorId: string;
  expiresAt: number;
}

export async function insertSession(
  db: Db,
  s: WidgetSession & { tokenHash: string; createdAt: number },
): Promise<void> {
  await widgetDb(db)
    .insertInto('widget_session')
    .values({
      token_hash: s.tokenHash,
      org_id: s.orgId,
      widget_id: s.widgetId,
      visitor_id: s.visitorId,
      created_at: s.createdAt,
      expires_at: s.expiresAt,
    })
    .execute();
}

export async function findSession(db: Db, tokenHash: string): Promise<WidgetSession | undefined> {
  const r = await widgetDb(db)
    .selectFrom('widget_session')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return r
    ? {
        orgId: String(r.org_id),
        widgetId: String(r.widget_id),
        visitorId: String(r.visitor_id),
        expiresAt: Number(r.expires_at),
      }
    : undefined;
}

export async function deleteExpiredSessions(db: Db, now: number): Promise<number> {
  const res = await widgetDb(db)
    .deleteFrom('widget_session')
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/* Widget chats */

function toWidgetChat(r: WidgetChatTable): WidgetChat {
  return {
    conversationId: String(r.conversation_id),
    orgId: String(r.org_id),
    widgetId: String(r.widget_id),
    visitorId: String(r.visitor_id),
    pageUrl: r.page_url,
    email: r.email,
    offline: Number(r.offline) === 1,
    createdAt: Number(r.created_at),
  };
}

export async function insertWidgetChat(db: Db, c: WidgetChat): Promise<void> {
  await widgetDb(db)
    .insertInto('widget_chat')
    .values({
      conversation_id: c.conversationId,
      org_id: c.orgId,
      widget_id: c.widgetId,
      visitor_id: c.visitorId,
      page_url: c.pageUrl,
      email: c.email,
      offline: c.offline ? 1 : 0,
      created_at: c.createdAt,
    })
    .execute();
}

export async function findWidgetChat(db: Db, conversationId: string): Promise<WidgetChat | undefined> {
  const r = await widgetDb(db)
    .selectFrom('widget_chat')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .executeTakeFirst();
  return r ? toWidgetChat(r) : undefined;
}

/** The visitor's open (waiting or connected) support chat, if any, newest first. */
export async function findOpenChatOfVisitor(
  db: Db,
  orgId: string,
  visitorId: string,
): Promise<SupportChat | undefined> {
  const row = await db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('kind', '=', 'support')
    .where('visitor_id', '=', visitorId)
    .where('state', 'in', ['waiting', 'connected'])
    .where('deleted_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row ? toSupportChat(row) : undefined;
}

/** The visitor's support chats (newest first), not in the recycle bin. */
export async function listChatsOfVisitor(
  db: Db,
  orgId: string,
  visitorId: string,
  limit: number,
): Promise<SupportChat[]> {
  const rows = await db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('kind', '=', 'support')
    .where('visitor_id', '=', visitorId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toSupportChat);
}

/** Waiting chats per department of the org. */
export async function countWaitingByDepartment(db: Db, orgId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('conversation')
    .select(['department_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('org_id', '=', orgId)
    .where('kind', '=', 'support')
    .where('state', '=', 'waiting')
    .where('deleted_at', 'is', null)
    .groupBy('department_id')
    .execute();
  return new Map(rows.map((r) => [String(r.department_id), Number(r.n)]));
}

/** Open chats each operator attends in the org. */
export async function countOpenByAttender(db: Db, orgId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('conversation')
    .select(['attender_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('org_id', '=', orgId)
    .where('kind', '=', 'support')
    .where('state', '=', 'connected')
    .where('deleted_at', 'is', null)
    .groupBy('attender_id')
    .execute();
  return new Map(rows.map((r) => [String(r.attender_id), Number(r.n)]));
}

/* Availability */

export async function setAvailabilityRow(
  db: Db,
  orgId: string,
  actorId: string,
  status: Availability,
  now: number,
): Promise<void> {
  await widgetDb(db)
    .insertInto('operator_availability')
    .values({ actor_id: actorId, org_id: orgId, status, updated_at: now })
    .onConflict((oc) => oc.column('actor_id').doUpdateSet({ status, updated_at: now }))
    .execute();
}

/** Every staff member of the org with their availability (away when never set). */
export async function listStaffAvailability(
  db: Db,
  orgId: string,
): Promise<
  { actorId: string; name: string; role: string; status: Availability; updatedAt: number | null }[]
> {
  const rows = await widgetDb(db)
    .selectFrom('actor')
    .leftJoin('operator_availability as oa', 'oa.actor_id', 'actor.id')
    .select(['actor.id', 'actor.name', 'actor.role', 'oa.status', 'oa.updated_at'])
    .where('actor.org_id', '=', orgId)
    .where('actor.kind', '=', 'user')
    .where('actor.active', '=', 1)
    .where('actor.role', 'in', ['owner', 'admin', 'operator'])
    .orderBy('actor.id')
    .execute();
  return rows.map((r) => ({
    actorId: String(r.id),
    name: r.name,
    role: String(r.role),
    status: r.status === 'available' ? 'available' : 'away',
    updatedAt: r.updated_at === null || r.updated_at === undefined ? null : Number(r.updated_at),
  }));
}

/**
 * The available staff who serve `departmentId` (those findDepartmentStaffIds names: owners and
 * admins, operators without departments, operators of that department) whose availability is
 * `available`.
 */
export async function findAvailableStaff(db: Db, orgId: string, departmentId: string): Promise<string[]> {
  const staff = await findDepartmentStaffIds(db, orgId, departmentId);
  if (staff.length === 0) return [];
  const rows = await widgetDb(db)
    .selectFrom('operator_availability')
    .select('actor_id')
    .where('org_id', '=', orgId)
    .where('status', '=', 'available')
    .where('actor_id', 'in', staff)
    .execute();
  return rows.map((r) => String(r.actor_id));
}

/* Canned responses */

function toCanned(r: CannedResponseTable): CannedResponse {
  return {
    id: String(r.id),
    orgId: String(r.org_id),
    shortcut: r.shortcut,
    title: r.title,
    text: r.text,
    createdBy: r.created_by === null ? null : String(r.created_by),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** Inserts a canned response; false when the org already has that shortcut. */
export async function insertCanned(db: Db, c: CannedResponse): Promise<boolean> {
  const res = await widgetDb(db)
    .insertInto('canned_response')
    .values({
      id: c.id,
      org_id: c.orgId,
      shortcut: c.shortcut,
      title: c.title,
      text: c.text,
      created_by: c.createdBy,
      created_at: c.createdAt,
      updated_at: c.updatedAt,
    })
    .onConflict((oc) => oc.columns(['org_id', 'shortcut']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function updateCannedRow(db: Db, c: CannedResponse): Promise<void> {
  await widgetDb(db)
    .updateTable('canned_response')
    .set({ shortcut: c.shortcut, title: c.title, text: c.text, updated_at: c.updatedAt })
    .where('org_id', '=', c.orgId)
    .where('id', '=', c.id)
    .execute();
}

export async function deleteCannedRow(db: Db, orgId: string, id: string): Promise<boolean> {
  const res = await widgetDb(db)
    .deleteFrom('canned_response')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function findCanned(db: Db, orgId: string, id: string): Promise<CannedResponse | undefined> {
  const r = await widgetDb(db)
    .selectFrom('canned_response')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toCanned(r) : undefined;
}

export async function findCannedByShortcut(
  db: Db,
  orgId: string,
  shortcut: string,
): Promise<CannedResponse | undefined> {
  const r = await widgetDb(db)
    .selectFrom('canned_response')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('shortcut', '=', shortcut)
    .executeTakeFirst();
  return r ? toCanned(r) : undefined;
}

/** The org's canned responses by id; `prefix` narrows to shortcuts that start with it. */
export async function listCannedRows(
  db: Db,
  orgId: string,
  opts: { prefix?: string | undefined; afterId?: string | undefined; limit: number },
): Promise<CannedResponse[]> {
  let q = widgetDb(db).selectFrom('canned_response').selectAll().where('org_id', '=', orgId);
  if (opts.prefix) {
    // Shortcuts are [a-z0-9_-]: a range instead of LIKE (no escaping, index-friendly).
    q = q.where('shortcut', '>=', opts.prefix).where('shortcut', '<', `${opts.prefix}\u007f`);
  }
  if (opts.afterId) q = q.where('id', '>', opts.afterId);
  return (await q.orderBy('id').limit(opts.limit).execute()).map(toCanned);
}

/** The read positions of a conversation's current members. */
export async function findReadPositions(
  db: Db,
  conversationId: string,
): Promise<{ actorId: string; readMessageId: string | null }[]> {
  const rows = await db
    .selectFrom('member')
    .select(['actor_id', 'read_message_id'])
    .where('conversation_id', '=', conversationId)
    .where('left_at', 'is', null)
    .execute();
  return rows.map((r) => ({
    actorId: String(r.actor_id),
    readMessageId: r.read_message_id === null ? null : String(r.read_message_id),
  }));
}

/** Some widget that allows `origin` (CORS preflight, which names no widget). */
export async function findWidgetAllowingOrigin(db: Db, origin: string): Promise<boolean> {
  const row = await widgetDb(db)
    .selectFrom('widget')
    .select('id')
    .where('allowed_origins', 'like', `%${JSON.stringify(origin).replace(/[%_\\]/g, '')}%`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * One page of the org's support chats, newest first (keyset on created_at, id): of `states`,
 * in `departmentIds` (null: all) or attended by `orInAttender`, of `visitorId`, attended by
 * `attenderId`. Not those in the recycle bin.
 */
export async function listSupportChatRows(
  db: Db,
  orgId: string,
  f: {
    states?: readonly string[] | undefined;
    departmentIds: readonly string[] | null;
    orAttender?: string | undefined;
    visitorId?: string | undefined;
    attenderId?: string | undefined;
    before?: { createdAt: number; id: string } | undefined;
    limit: number;
  },
): Promise<SupportChat[]> {
  let q = db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('kind', '=', 'support')
    .where('deleted_at', 'is', null);
  if (f.states && f.states.length > 0) q = q.where('state', 'in', [...f.states]);
  if (f.departmentIds !== null) {
    const ids = [...f.departmentIds];
    const attender = f.orAttender;
    if (ids.length === 0 && !attender) return [];
    q = q.where((eb) =>
      eb.or([
        ...(ids.length > 0 ? [eb('department_id', 'in', ids)] : []),
        ...(attender ? [eb('attender_id', '=', attender)] : []),
      ]),
    );
  }
  if (f.visitorId) q = q.where('visitor_id', '=', f.visitorId);
  if (f.attenderId) q = q.where('attender_id', '=', f.attenderId);
  if (f.before) {
    const b = f.before;
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', b.createdAt),
        eb.and([eb('created_at', '=', b.createdAt), eb('id', '<', b.id)]),
      ]),
    );
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
  return rows.map(toSupportChat);
}

/** The widget chats among `ids`, by conversation id. */
export async function findWidgetChats(db: Db, ids: readonly string[]): Promise<Map<string, WidgetChat>> {
  if (ids.length === 0) return new Map();
  const rows = await widgetDb(db)
    .selectFrom('widget_chat')
    .selectAll()
    .where('conversation_id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [String(r.conversation_id), toWidgetChat(r)]));
}

/**
 * The visitors with an unexpired credential for a widget of the org that shows one of
 * `departmentIds` (at most `limit`): who a change of those departments' availability concerns.
 */
export async function findVisitorsOfDepartments(
  db: Db,
  orgId: string,
  departmentIds: readonly string[],
  now: number,
  limit = 10_000,
): Promise<string[]> {
  if (departmentIds.length === 0) return [];
  const widgets = await widgetDb(db)
    .selectFrom('widget')
    .select(['id', 'department_ids'])
    .where('org_id', '=', orgId)
    .execute();
  const wanted = new Set(departmentIds);
  const ids = widgets
    .filter((w) => parseJson<string[]>(w.department_ids, []).some((d) => wanted.has(String(d))))
    .map((w) => String(w.id));
  if (ids.length === 0) return [];
  const rows = await widgetDb(db)
    .selectFrom('widget_session')
    .select('visitor_id')
    .distinct()
    .where('org_id', '=', orgId)
    .where('widget_id', 'in', ids)
    .where('expires_at', '>', now)
    .limit(limit)
    .execute();
  return rows.map((r) => String(r.visitor_id));
}
