import type { Actor, Message } from '../../domain/model.ts';
import { iso, optIso } from '../../domain/presenters.ts';
import type { CannedResponse, Widget } from '../../domain/widget.ts';
import type { DepartmentStatus, VisitorChatView } from '../../services/widgets.ts';
import type { ChatListItem, QueueCount, StaffAvailability, VisitorPanel } from '../../services/workspace.ts';

/** JSON of the widget, the visitor endpoints and the operators' workspace. */

/** The embed snippet of a widget served from `base` (the server's own origin). */
export function embedSnippet(w: Widget, base: string): string {
  return `<script src="${base}/widget.js" data-key="${w.publicKey}" async></script>`;
}

export function presentWidget(w: Widget, base: string) {
  return {
    id: w.id,
    public_key: w.publicKey,
    secret: w.secret,
    name: w.name,
    allowed_origins: w.allowedOrigins,
    department_ids: w.departmentIds,
    prechat: w.prechat,
    greeting: w.greeting,
    offline_message: w.offlineMessage,
    colour: w.colour,
    embed_snippet: embedSnippet(w, base),
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
  };
}

export function presentPublicWidget(w: Widget, departments: DepartmentStatus[]) {
  return {
    key: w.publicKey,
    name: w.name,
    greeting: w.greeting,
    offline_message: w.offlineMessage,
    colour: w.colour,
    prechat: w.prechat,
    departments: departments.map((d) => ({
      id: d.department.id,
      name: d.department.name,
      online: d.online,
      open: d.hours.open,
      opens_at: optIso(d.hours.opensAt),
      closes_at: optIso(d.hours.closesAt),
    })),
    online: departments.some((d) => d.online),
  };
}

export const presentVisitor = (a: Actor) => ({
  id: a.id,
  name: a.name,
  email: a.email,
  external_id: a.externalId,
});

export function presentVisitorChat(v: VisitorChatView) {
  return {
    id: v.chat.id,
    reference_id: v.chat.referenceId,
    state: v.chat.state,
    department: v.department ? { id: v.department.id, name: v.department.name } : null,
    operator: v.operator ? { id: v.operator.id, name: v.operator.name } : null,
    page_url: v.widgetChat?.pageUrl ?? null,
    offline: v.widgetChat?.offline ?? false,
    operator_read_message_id: v.operatorReadMessageId,
    visitor_read_message_id: v.visitorReadMessageId,
    created_at: iso(v.chat.createdAt),
    ended_at: optIso(v.chat.endedAt),
  };
}

export function presentVisitorMessage(m: Message, senders: Map<string, Actor>, me: string) {
  const s = senders.get(m.senderId);
  return {
    id: m.id,
    text: m.deletedAt === null ? m.text : null,
    sender: { id: m.senderId, name: s?.name ?? 'Someone', kind: s?.kind ?? 'user' },
    mine: m.senderId === me,
    created_at: iso(m.createdAt),
    edited_at: optIso(m.editedAt),
    deleted_at: optIso(m.deletedAt),
  };
}

export const presentAvailability = (a: StaffAvailability) => ({
  actor_id: a.actorId,
  name: a.name,
  role: a.role,
  status: a.status,
  updated_at: a.updatedAt === null ? null : iso(a.updatedAt),
  open_chats: a.openChats,
});

export const presentQueueCount = (q: QueueCount) => ({
  department: { id: q.department.id, name: q.department.name },
  waiting: q.waiting,
  available_operators: q.availableOperators,
});

export function presentVisitorPanel(p: VisitorPanel) {
  const v = p.visitor;
  return {
    conversation_id: p.chat.id,
    title: p.chat.title,
    state: p.chat.state,
    visitor: v
      ? {
          id: v.id,
          name: v.name,
          email: v.email,
          phone: v.phone,
          ip: v.ip,
          country: v.country,
          external_id: v.externalId,
          verified: v.externalId !== null,
        }
      : null,
    department: p.department ? { id: p.department.id, name: p.department.name } : null,
    page_url: p.widgetChat?.pageUrl ?? null,
    widget: p.widgetChat && p.widgetName ? { id: p.widgetChat.widgetId, name: p.widgetName } : null,
    offline: p.widgetChat?.offline ?? false,
    contact_email: p.widgetChat?.email ?? v?.email ?? null,
    previous_chats: p.previousChats.map((c) => ({
      id: c.id,
      reference_id: c.referenceId,
      state: c.state,
      question: c.question,
      department_id: c.departmentId,
      created_at: iso(c.createdAt),
      ended_at: optIso(c.endedAt),
      missed_at: optIso(c.missedAt),
    })),
  };
}

export const presentCanned = (c: CannedResponse) => ({
  id: c.id,
  shortcut: c.shortcut,
  title: c.title,
  text: c.text,
  created_by: c.createdBy,
  created_at: iso(c.createdAt),
  updated_at: iso(c.updatedAt),
});

export function presentChatListItem(i: ChatListItem) {
  const c = i.chat;
  return {
    id: c.id,
    reference_id: c.referenceId,
    title: c.title,
    state: c.state,
    question: c.question,
    department: i.department ? { id: i.department.id, name: i.department.name } : null,
    visitor: i.visitor ? { id: i.visitor.id, name: i.visitor.name, email: i.visitor.email } : null,
    attender: i.attender ? { id: i.attender.id, name: i.attender.name } : null,
    page_url: i.widgetChat?.pageUrl ?? null,
    offline: i.widgetChat?.offline ?? false,
    created_at: iso(c.createdAt),
    attended_at: optIso(c.attendedAt),
    ended_at: optIso(c.endedAt),
    missed_at: optIso(c.missedAt),
  };
}
