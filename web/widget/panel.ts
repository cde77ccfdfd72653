/**
 * The Parley chat widget's panel: the document of the iframe `/widget/frame?key=...`. Plain DOM,
 * no framework. Everything a visitor or an operator wrote is put on the page as text
 * (textContent), never as HTML. The visitor credential is kept in this origin's localStorage, so
 * a reload or a new tab continues the same chat; live events come from /v1/widget/stream and a
 * reconnect catches up from the last event and the last message it saw.
 */

interface Dept {
  id: string;
  name: string;
  /** Open by its hours and an operator is available: live chat. */
  online: boolean;
  /** Open by its opening hours (always true without hours). */
  open: boolean;
  opens_at: string | null;
  closes_at: string | null;
}
interface Config {
  key: string;
  name: string;
  greeting: string;
  offline_message: string;
  colour: string;
  prechat: Record<'name' | 'email' | 'question', 'required' | 'optional' | 'hidden'>;
  departments: Dept[];
  online: boolean;
}
interface Chat {
  id: string;
  state: 'waiting' | 'connected' | 'ended' | 'missed';
  operator: { id: string; name: string } | null;
  department: { name: string } | null;
  offline: boolean;
  operator_read_message_id: string | null;
}
interface Msg {
  id: string;
  text: string | null;
  mine: boolean;
  sender: { name: string; kind: string };
  created_at: string;
}
interface Visitor {
  id: string;
  name: string;
  email: string | null;
}

const mountEl = document.getElementById('parley-widget') as HTMLElement;
const KEY = mountEl.dataset.key ?? '';
const STORE = `parley.widget.${KEY}`;
const api = `${location.origin}/v1/widget`;

/** Where the parent page is (from its init message): the credential goes back only there. */
let parentOrigin: string | null = null;
/** This frame's storage is blocked (third-party storage off): the parent page keeps the credential. */
let blocked = false;
let token: string | null = read();
let config: Config | null = null;
let visitor: Visitor | null = null;
let chat: Chat | null = null;
let pageUrl: string | undefined;
let identity: { user_id: string; signature: string } | null = null;
const messages = new Map<string, Msg>();
let lastSeq: number | undefined;
let socket: WebSocket | null = null;
let retry = 0;
let typingTimer = 0;
let typingSentAt = 0;
/** What the panel shows: the start forms (they follow availability live), a chat, or a sent message. */
let view: 'start' | 'chat' | 'sent' = 'start';
let hoursTimer = 0;

function read(): string | null {
  try {
    return localStorage.getItem(STORE);
  } catch {
    blocked = true;
    return null;
  }
}
function store(t: string | null) {
  token = t;
  try {
    if (t) localStorage.setItem(STORE, t);
    else localStorage.removeItem(STORE);
  } catch {
    // Storage in third-party frames is blocked here: the loader keeps it in the page's storage
    // and hands it back on the next load (by message, never in a URL).
    if (parentOrigin) parent.postMessage({ type: 'parley:store', token: t }, parentOrigin);
  }
}

class ApiError extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(api + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = json?.error ?? {};
    if (res.status === 401 && token) store(null);
    throw new ApiError(res.status, e.code ?? 'error', e.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

/* ---------------------------------------------------------------- DOM helpers */

type Attrs = Record<string, string | boolean | ((e: Event) => void)>;
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

const styles = (colour: string) => `
*{box-sizing:border-box}
html,body{margin:0;height:100%;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2430;background:#fff}
#parley-widget{display:flex;flex-direction:column;height:100%}
header{background:${colour};color:#fff;padding:14px 16px;display:flex;align-items:center;gap:10px}
header .who{flex:1;min-width:0}
header h1{font-size:16px;margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
header p{margin:2px 0 0;font-size:13px;opacity:.9;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
header button{background:rgba(255,255,255,.18);color:#fff;border:0;border-radius:8px;padding:6px 10px;font:inherit;font-size:13px;cursor:pointer}
header button:hover{background:rgba(255,255,255,.3)}
.avatar{width:36px;height:36px;border-radius:50%;background:rgba(255,255,255,.25);display:flex;align-items:center;justify-content:center;font-weight:600}
main{flex:1;overflow-y:auto;padding:16px;background:#f6f7f9}
form{display:flex;flex-direction:column;gap:12px}
label{display:flex;flex-direction:column;gap:4px;font-size:13px;font-weight:600;color:#394150}
input,textarea,select{font:inherit;font-weight:400;padding:9px 10px;border:1px solid #c9ced6;border-radius:8px;background:#fff;color:inherit}
textarea{resize:vertical;min-height:72px}
input:focus,textarea:focus,select:focus{outline:2px solid ${colour};outline-offset:0;border-color:transparent}
.primary{background:${colour};color:#fff;border:0;border-radius:8px;padding:10px 14px;font:inherit;font-weight:600;cursor:pointer}
.primary:disabled{opacity:.6;cursor:default}
.intro{background:#fff;border-radius:12px;padding:12px 14px;margin:0 0 14px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.error{color:#b42318;font-size:13px;margin:0}
ol{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:8px}
li{max-width:82%;display:flex;flex-direction:column}
li.mine{align-self:flex-end;align-items:flex-end}
li.sys{align-self:center;max-width:100%;color:#5b6472;font-size:13px;text-align:center}
.bubble{padding:8px 12px;border-radius:14px;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.06);white-space:pre-wrap;overflow-wrap:anywhere}
li.mine .bubble{background:${colour};color:#fff}
.meta{font-size:11px;color:#6b7380;margin:2px 4px 0}
.typing{font-size:13px;color:#5b6472;min-height:18px;padding:2px 16px;background:#f6f7f9}
footer{display:flex;gap:8px;padding:10px;border-top:1px solid #e4e7eb;background:#fff}
footer textarea{flex:1;min-height:42px;max-height:120px;resize:none}
footer .primary{align-self:flex-end}
.center{display:flex;flex-direction:column;gap:12px;align-items:flex-start}
`;

const root = mountEl;
function render(...nodes: (Node | null | false)[]) {
  root.replaceChildren(...(nodes.filter(Boolean) as Node[]));
}

function header(title: string, sub: string, extra?: Node | null) {
  return h(
    'header',
    {},
    h('div', { class: 'avatar', 'aria-hidden': 'true' }, (title[0] ?? '?').toUpperCase()),
    h('div', { class: 'who' }, h('h1', {}, title), h('p', {}, sub)),
    extra ?? null,
    h(
      'button',
      {
        type: 'button',
        'aria-label': 'Close chat',
        onclick: () => parent.postMessage({ type: 'parley:close' }, '*'),
      },
      '✕',
    ),
  );
}

function field(name: string, label: string, mode: string, type = 'text', value = ''): Node | null {
  if (mode === 'hidden') return null;
  const input =
    type === 'textarea'
      ? h('textarea', { name, required: mode === 'required', maxlength: '2000' })
      : h('input', { name, type, required: mode === 'required', autocomplete: name, maxlength: '200' });
  (input as HTMLInputElement).value = value;
  return h('label', {}, `${label}${mode === 'optional' ? ' (optional)' : ''}`, input);
}

function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  new FormData(form).forEach((v, k) => {
    const s = String(v).trim();
    if (s) out[k] = s;
  });
  return out;
}

let sessionStarting: Promise<void> | null = null;
/** A visitor credential (one, however many callers ask at once). */
function ensureSession(name?: string, email?: string): Promise<void> {
  if (token) return Promise.resolve();
  sessionStarting ??= call<{ token: string; visitor: Visitor }>('POST', '/sessions', {
    key: KEY,
    ...(name ? { name } : {}),
    ...(email ? { email } : {}),
    ...(identity ? { identity } : {}),
  })
    .then((s) => {
      store(s.token);
      visitor = s.visitor;
    })
    .finally(() => {
      sessionStarting = null;
    });
  return sessionStarting;
}

/**
 * The start forms follow availability live over the stream, which needs a credential: a visitor
 * who has none gets one when they first touch a form (not merely by opening the panel, so a
 * glance creates no visitor). The stream's `ready` then reads the availability again.
 */
function liveOnFocus(form: HTMLFormElement) {
  if (token) return;
  form.addEventListener(
    'focusin',
    () =>
      void ensureSession()
        .then(connect)
        .catch(() => {}),
    { once: true },
  );
}

/* ---------------------------------------------------------------- views */

/** When a closed department opens again, in the visitor's own time zone. */
function opensText(d: Dept | undefined): string | null {
  if (!d?.opens_at) return null;
  const at = new Date(d.opens_at);
  return `We open again ${at.toLocaleString([], { weekday: 'long', hour: '2-digit', minute: '2-digit' })}.`;
}

function showPrechat(error?: string, prefill: Record<string, string> = {}) {
  view = 'start';
  const c = config!;
  const depts = c.departments;
  const form = h(
    'form',
    { 'aria-label': 'Start a chat' },
    field(
      'name',
      'Name',
      c.prechat.name,
      'text',
      prefill.name ?? (visitor?.name && !/^Visitor \d+$/.test(visitor.name) ? visitor.name : ''),
    ),
    field('email', 'Email', c.prechat.email, 'email', prefill.email ?? visitor?.email ?? ''),
    depts.length > 1 &&
      h(
        'label',
        {},
        'Department',
        h(
          'select',
          { name: 'department_id' },
          ...depts.map((d) =>
            h(
              'option',
              { value: d.id, selected: d.id === prefill.department_id },
              d.online ? d.name : `${d.name} (${d.open ? 'away' : 'closed'})`,
            ),
          ),
        ),
      ),
    field(
      'question',
      'How can we help?',
      c.prechat.question,
      'textarea',
      prefill.question ?? prefill.message ?? '',
    ),
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
    h('button', { class: 'primary', type: 'submit' }, 'Start chat'),
  );
  liveOnFocus(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const btn = form.querySelector('button') as HTMLButtonElement;
    btn.disabled = true;
    try {
      await ensureSession(v.name, v.email);
      connect();
      chat = await call<Chat>('POST', '/chats', { ...v, ...(pageUrl ? { page_url: pageUrl } : {}) });
      if (visitor)
        visitor = { ...visitor, ...(v.name ? { name: v.name } : {}), ...(v.email ? { email: v.email } : {}) };
      await openChat();
    } catch (err) {
      if (
        err instanceof ApiError &&
        (err.code === 'no_operator_available' || err.code === 'department_closed')
      ) {
        // Availability changed meanwhile: read it again, then offer the form.
        await refreshConfig(false).catch(() => {});
        return showOffline(v);
      }
      btn.disabled = false;
      showPrechat(err instanceof Error ? err.message : String(err));
    }
  });
  render(
    header(c.name, c.online ? 'We typically reply in a few minutes' : 'Away'),
    h('main', {}, h('p', { class: 'intro' }, c.greeting), form),
  );
}

function showOffline(prefill: Record<string, string> = {}, error?: string) {
  view = 'start';
  const c = config!;
  const chosen = c.departments.find((d) => d.id === prefill.department_id) ?? c.departments[0];
  const closed = chosen && !chosen.open ? opensText(chosen) : null;
  const form = h(
    'form',
    { 'aria-label': 'Leave a message' },
    field('name', 'Name', c.prechat.name === 'hidden' ? 'hidden' : 'optional', 'text', prefill.name ?? ''),
    field('email', 'Email', 'required', 'email', prefill.email ?? visitor?.email ?? ''),
    h('label', {}, 'Message', h('textarea', { name: 'message', required: true, maxlength: '4000' })),
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
    h('button', { class: 'primary', type: 'submit' }, 'Send message'),
  );
  const msg = form.querySelector('textarea[name=message]') as HTMLTextAreaElement;
  msg.value = prefill.question ?? prefill.message ?? '';
  liveOnFocus(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const btn = form.querySelector('button') as HTMLButtonElement;
    btn.disabled = true;
    try {
      await ensureSession(v.name, v.email);
      await call<Chat>('POST', '/offline-messages', {
        email: v.email,
        message: v.message,
        ...(v.name ? { name: v.name } : {}),
        ...(prefill.department_id ? { department_id: prefill.department_id } : {}),
        ...(pageUrl ? { page_url: pageUrl } : {}),
      });
      view = 'sent';
      render(
        header(c.name, 'Away'),
        h(
          'main',
          {},
          h(
            'div',
            { class: 'center', role: 'status' },
            h('h2', {}, 'Message sent'),
            h('p', {}, `Thanks! We'll reply to ${v.email ?? ''}.`),
          ),
        ),
      );
    } catch (err) {
      showOffline(v, err instanceof Error ? err.message : String(err));
    }
  });
  render(
    header(c.name, chosen && !chosen.open ? 'Closed' : 'Away'),
    h(
      'main',
      {},
      h('p', { class: 'intro' }, c.offline_message),
      closed ? h('p', { class: 'intro', role: 'status' }, closed) : null,
      form,
    ),
  );
}

let list: HTMLOListElement;
let typingEl: HTMLDivElement;
let scroller: HTMLElement;

function statusLine(): string {
  if (!chat) return '';
  if (chat.state === 'waiting') return 'Waiting for an operator…';
  if (chat.state === 'connected') return chat.department ? `${chat.department.name} · online` : 'Online';
  return 'Chat ended';
}

function renderChat() {
  view = 'chat';
  const c = config!;
  const open = chat!.state === 'waiting' || chat!.state === 'connected';
  let confirming = false;
  const end = open
    ? h(
        'button',
        {
          type: 'button',
          onclick: async (e: Event) => {
            const b = e.currentTarget as HTMLButtonElement;
            if (!confirming) {
              confirming = true;
              b.textContent = 'End now?';
              return;
            }
            chat = await call<Chat>('POST', `/chats/${chat!.id}/end`, {});
            renderChat();
          },
        },
        'End chat',
      )
    : null;
  list = h('ol', { 'aria-label': 'Messages', 'aria-live': 'polite' });
  scroller = h('main', {}, list);
  typingEl = h('div', { class: 'typing', 'aria-live': 'polite' });
  const nodes: Node[] = [header(chat!.operator?.name ?? c.name, statusLine(), end), scroller, typingEl];
  if (open) {
    const input = h('textarea', {
      'aria-label': 'Message',
      placeholder: 'Write a message…',
      maxlength: '4000',
      rows: '1',
    });
    const send = async () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      const clientId = `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      try {
        const m = await call<Msg>('POST', `/chats/${chat!.id}/messages`, { text, client_id: clientId });
        add(m);
      } catch (err) {
        input.value = text;
        typingEl.textContent = err instanceof Error ? err.message : 'Not sent';
      }
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        void send();
      }
    });
    input.addEventListener('input', () => {
      const now = Date.now();
      if (now - typingSentAt > 2500 && input.value) {
        typingSentAt = now;
        void call('POST', `/chats/${chat!.id}/typing`, {}).catch(() => {});
      }
    });
    const form = h(
      'footer',
      {},
      input,
      h('button', { class: 'primary', type: 'button', onclick: () => void send() }, 'Send'),
    );
    nodes.push(form);
  } else {
    nodes.push(
      h(
        'footer',
        {},
        h(
          'button',
          {
            class: 'primary',
            type: 'button',
            onclick: () => {
              chat = null;
              messages.clear();
              showStart();
            },
          },
          'Start a new chat',
        ),
        chat!.state === 'missed' && !chat!.offline
          ? h('button', { class: 'primary', type: 'button', onclick: () => showOffline() }, 'Leave a message')
          : null,
      ),
    );
  }
  render(...nodes);
  drawMessages();
}

function drawMessages() {
  const sorted = [...messages.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  const read = chat?.operator_read_message_id ? BigInt(chat.operator_read_message_id) : null;
  const lastMine = [...sorted].reverse().find((m) => m.mine);
  const items: Node[] = [];
  if (chat?.state === 'waiting' && sorted.length <= 1)
    items.push(h('li', { class: 'sys' }, config!.greeting));
  for (const m of sorted) {
    const time = new Date(m.created_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const seen = m === lastMine && read !== null && BigInt(m.id) <= read ? ' · Seen' : '';
    items.push(
      h(
        'li',
        { class: m.mine ? 'mine' : 'theirs' },
        h('div', { class: 'bubble' }, m.text ?? '(deleted)'),
        h('span', { class: 'meta' }, m.mine ? `${time}${seen}` : `${m.sender.name} · ${time}`),
      ),
    );
  }
  if (chat?.state === 'ended') {
    items.push(h('li', { class: 'sys', role: 'status' }, 'This chat has ended.'));
    if (visitor?.email)
      items.push(h('li', { class: 'sys' }, `A transcript is on its way to ${visitor.email}.`));
  }
  if (chat?.state === 'missed')
    items.push(
      h(
        'li',
        { class: 'sys', role: 'status' },
        chat.offline
          ? "Message sent. We'll reply by email."
          : 'Sorry, nobody could answer in time. Leave us a message and we will write back.',
      ),
    );
  list.replaceChildren(...items);
  scroller.scrollTop = scroller.scrollHeight;
}

function add(m: Msg) {
  messages.set(m.id, m);
  if (list) drawMessages();
}

const newest = () =>
  [...messages.keys()].reduce<string | undefined>(
    (a, b) => (a === undefined || BigInt(b) > BigInt(a) ? b : a),
    undefined,
  );

/** Loads what is missing after the newest message shown (all of it when none is). */
async function catchUp() {
  if (!chat) return;
  let after = newest();
  if (after === undefined) {
    const page = await call<{ items: Msg[] }>('GET', `/chats/${chat.id}/messages?limit=100`);
    for (const m of page.items) messages.set(m.id, m);
  } else {
    for (;;) {
      const page: { items: Msg[]; next_cursor: string | null } = await call(
        'GET',
        `/chats/${chat.id}/messages?after=${after}&limit=100`,
      );
      for (const m of page.items) messages.set(m.id, m);
      if (!page.next_cursor || page.items.length === 0) break;
      after = page.items[page.items.length - 1]!.id;
    }
  }
  if (list) drawMessages();
  markRead();
}

function markRead() {
  if (!chat || document.visibilityState !== 'visible') return;
  const last = [...messages.values()].filter((m) => !m.mine).pop();
  if (last) void call('POST', `/chats/${chat.id}/read`, {}).catch(() => {});
}

async function refreshChat() {
  if (!chat) return;
  const before = `${chat.state}:${chat.operator?.id}`;
  chat = await call<Chat>('GET', `/chats/${chat.id}`);
  if (`${chat.state}:${chat.operator?.id}` !== before) renderChat();
  else drawMessages();
}

function connect() {
  if (!token || socket) return;
  const url = `${location.origin.replace(/^http/, 'ws')}/v1/widget/stream${lastSeq !== undefined ? `?since=${lastSeq}` : ''}`;
  const ws = new WebSocket(url, ['parley', `bearer.${token}`]);
  socket = ws;
  ws.onmessage = (e) => {
    const f = JSON.parse(String(e.data));
    if (typeof f.seq === 'number' && f.seq > 0) lastSeq = f.seq;
    if (f.type === 'ready') {
      retry = 0;
      // Catch up on what a disconnect missed: availability, the chat's state and read position, messages.
      void refreshConfig(true).catch(() => {});
      if (chat)
        void refreshChat().then(
          () => catchUp(),
          () => catchUp(),
        );
      return;
    }
    if (f.type === 'event' && f.event === 'support.availability') {
      void refreshConfig(true).catch(() => {});
      return;
    }
    if (f.type !== 'event' || !chat || f.conversation_id !== chat.id) return;
    if (f.event === 'message.created') {
      const m = f.data.message;
      const mine = m.sender_id === visitor?.id;
      add({
        id: m.id,
        text: m.text,
        mine,
        sender: {
          name: mine ? (visitor?.name ?? 'You') : (chat.operator?.name ?? 'Support'),
          kind: mine ? 'visitor' : 'user',
        },
        created_at: m.created_at,
      });
      typingEl.textContent = '';
      if (!mine) markRead();
    } else if (f.event === 'support.read') {
      const id = f.data.operator_read_message_id as string | null;
      const had = chat.operator_read_message_id;
      if (id && (had === null || BigInt(id) > BigInt(had))) chat = { ...chat, operator_read_message_id: id };
      if (list) drawMessages();
    } else if (f.event === 'typing.started') {
      typingEl.textContent = `${f.data.actor_name} is typing…`;
      clearTimeout(typingTimer);
      typingTimer = window.setTimeout(() => {
        typingEl.textContent = '';
      }, 4000);
    } else if (
      String(f.event).startsWith('support.') ||
      f.event === 'message.edited' ||
      f.event === 'message.deleted'
    ) {
      void refreshChat().then(() => catchUp());
    }
  };
  ws.onclose = () => {
    socket = null;
    if (!token) return;
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 500 * 2 ** retry * (0.5 + Math.random()));
  };
}

async function openChat() {
  messages.clear();
  renderChat();
  await catchUp();
  connect();
}

function showStart(prefill: Record<string, string> = {}) {
  if (config!.online) showPrechat(undefined, prefill);
  else showOffline(prefill);
}

const onlineKey = (c: Config | null) => JSON.stringify(c?.departments.map((d) => [d.id, d.online, d.open]));

/**
 * Reads the widget's availability again (on `support.availability`, on reconnect, when opening
 * hours begin or end). The start forms follow it, keeping what the visitor has typed.
 */
async function refreshConfig(redraw: boolean) {
  const before = onlineKey(config);
  config = await call<Config>('GET', `/config?key=${encodeURIComponent(KEY)}`);
  scheduleHoursCheck();
  if (!redraw || view !== 'start' || onlineKey(config) === before) return;
  const form = root.querySelector('form');
  const focused = (document.activeElement as HTMLInputElement | null)?.name;
  showStart(form ? formValues(form) : {});
  // Keep the visitor where they were typing (the message is the question on the other form).
  const same = focused === 'message' || focused === 'question' ? ['message', 'question'] : [focused];
  for (const name of same) {
    const el = name ? root.querySelector<HTMLInputElement>(`form [name="${name}"]`) : null;
    if (el) {
      el.focus();
      break;
    }
  }
}

/** Reads the availability again when a department's opening hours next begin or end. */
function scheduleHoursCheck() {
  clearTimeout(hoursTimer);
  const times = config!.departments
    .flatMap((d) => [d.opens_at, d.closes_at])
    .filter((v): v is string => v !== null)
    .map((v) => Date.parse(v) - Date.now());
  if (times.length === 0) return;
  const wait = Math.min(Math.max(Math.min(...times), 0) + 1000, 6 * 60 * 60_000);
  hoursTimer = window.setTimeout(() => void refreshConfig(true).catch(() => {}), wait);
}

async function start() {
  config = await call<Config>('GET', `/config?key=${encodeURIComponent(KEY)}`);
  const style = document.createElement('style');
  style.textContent = styles(config.colour);
  document.head.append(style);
  scheduleHoursCheck();
  if (!token && identity) await ensureSession();
  if (token) {
    try {
      const me = await call<{ visitor: Visitor; chat: Chat | null }>('GET', '/me');
      visitor = me.visitor;
      chat = me.chat;
    } catch {
      chat = null;
    }
  }
  if (chat && (chat.state === 'waiting' || chat.state === 'connected')) await openChat();
  else showStart();
  connect();
}

let started = false;
const go = () => {
  if (started) return;
  started = true;
  start().catch((err) =>
    render(
      h('main', {}, h('p', { class: 'error', role: 'alert' }, `The chat is unavailable: ${err.message}`)),
    ),
  );
};
window.addEventListener('message', (e) => {
  if (e.source !== parent) return;
  const d = e.data as {
    type?: string;
    page_url?: unknown;
    token?: unknown;
    identity?: { user_id: string; signature: string } | null;
  };
  if (d?.type !== 'parley:init') return;
  parentOrigin = e.origin;
  if (blocked && typeof d.token === 'string' && d.token.startsWith('pv_')) token = d.token;
  if (typeof d.page_url === 'string' && /^https?:\/\//.test(d.page_url)) pageUrl = d.page_url.slice(0, 2000);
  if (d.identity && typeof d.identity.user_id === 'string') identity = d.identity;
  go();
});
if (parent !== window) parent.postMessage({ type: 'parley:ready' }, '*');
// Opened on its own (not framed), or a page that never answers: start anyway.
setTimeout(go, parent === window ? 0 : 3000);
document.addEventListener('visibilitychange', markRead);
