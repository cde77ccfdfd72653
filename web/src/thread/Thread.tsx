import { type FormEvent, Fragment, useEffect, useMemo, useRef, useState } from 'react';
import { useMatch, useNavigate } from 'react-router';
import type { Session } from '../App.tsx';
import { type MemberState, type Message, newClientId, type Page, query } from '../api.ts';
import { Uploader } from '../attachments/Uploader.tsx';
import { conversationTitle } from '../conversationTitle.ts';
import { useCannedPicker } from '../support/CannedPicker.tsx';
import { type ClosedChat, SupportWorkspace } from '../support/SupportWorkspace.tsx';
import { Busy, dayLabel, Empty, ErrorNote, sameDay, useAction, useNow } from '../ui.tsx';
import { Composer, useDraft } from './Composer.tsx';
import { ConversationSettings } from './ConversationSettings.tsx';
import { fromWire, MentionPicker, toWire } from './MentionPicker.tsx';
import { MessageItem } from './MessageItem.tsx';
import { PinBanner, PinForm } from './Pins.tsx';
import { MembersBar } from './Presence.tsx';
import { Reactions } from './Reactions.tsx';
import { SeenBy } from './Receipts.tsx';
import { ThreadHeader } from './ThreadHeader.tsx';
import { ThreadPanel, ThreadSummary } from './ThreadPanel.tsx';
import type { ChatMessage } from './teamchat.ts';
import { useMembers, usePresence, useReceipts } from './teamchat.ts';
import { useThread } from './useThread.ts';

/** Messages of one sender this close together form a group (one avatar, one name). */
const GROUP_WINDOW_MS = 5 * 60_000;

/** One conversation: its header and actions, the pinned message, the messages and the composer. */
export function Thread({
  session,
  id,
  focusId = null,
  directNames,
  onBack,
  onState,
  onGone,
}: {
  session: Session;
  id: string;
  /** Open at this message (a search result): load it if it is not in the newest page, scroll to it, highlight it. */
  focusId?: string | null;
  directNames: Map<string, string>;
  onBack: () => void;
  onState: (me: MemberState) => void;
  onGone: () => void;
}) {
  const { api, stream, me } = session;
  // Team chat: members (names for mentions, the picker), presence dots, read receipts, and
  // the open thread (/conversations/:id/t/:messageId).
  const memberList = useMembers(session, id);
  const members = memberList.items;
  const presence = usePresence(session, id);
  const receipts = useReceipts(session, id);
  const names = useMemo(() => {
    const all = new Map(session.names);
    for (const m of members) all.set(m.id, m.name);
    return all;
  }, [session.names, members]);
  const mentionEnv = useMemo(() => ({ names, meId: me.actor.id }), [names, me.actor.id]);
  const picked = useRef(new Map<string, string>());
  const navigate = useNavigate();
  const threadMatch = useMatch('/conversations/:id/t/:rootId');
  const openRoot = threadMatch?.params.id === id ? (threadMatch.params.rootId ?? null) : null;
  const openThread = (rootId: string | null) =>
    navigate(rootId ? `/conversations/${id}/t/${rootId}` : `/conversations/${id}`);
  const [text, setText] = useState('');
  // A support chat that ended or was missed takes no messages (the server says chat_closed).
  const [closed, setClosed] = useState<ClosedChat | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: another conversation starts open
  useEffect(() => setClosed(null), [id]);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [pinFor, setPinFor] = useState<Message | null>(null);
  const pinExpiry = useState(String(3_600_000));
  const action = useAction();
  const now = useNow();
  const bottom = useRef<HTMLLIElement | null>(null);
  const lastTyping = useRef(0);
  const { conv, messages, sorted, older, pin, setPin, typing, loadError, merge, loadOlder, setMe } =
    useThread(session, id, {
      loaded: (c) => {
        if (c.me?.draft) setText(c.me.draft);
      },
      state: onState,
    });

  const newestId = sorted.at(-1)?.id;
  useEffect(() => {
    if (newestId) bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [newestId]);

  const focusLoaded = conv !== null && focusId !== null && messages.has(focusId);
  useEffect(() => {
    if (!conv || !focusId || messages.has(focusId)) return;
    // Older than the newest page: the message and the messages around it.
    void Promise.all([
      api.get<Message>(`/conversations/${id}/messages/${focusId}`),
      api.get<Page<Message>>(`/conversations/${id}/messages${query({ before: focusId, limit: 10 })}`),
      api.get<Page<Message>>(`/conversations/${id}/messages${query({ after: focusId, limit: 30 })}`),
    ])
      .then(([m, before, after]) => merge([m, ...before.items, ...after.items]))
      .catch(() => undefined);
  }, [api, conv, focusId, id, merge, messages]);
  useEffect(() => {
    if (focusLoaded) document.getElementById(`msg-${focusId}`)?.scrollIntoView?.({ block: 'center' });
  }, [focusLoaded, focusId]);

  const draftSaved = useDraft(api, id, conv, text, editing, setMe);
  const canned = useCannedPicker(session, conv?.kind === 'support', text, (v) => onType(v));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const typed = text;
    const body = toWire(typed.trim(), picked.current);
    if (!body) return;
    // Clear the box at once, so what is typed while the send is under way stays; the text comes
    // back (before anything typed since) only if the send fails.
    const wasEditing = editing;
    const wasReplyTo = replyTo;
    setText('');
    setEditing(null);
    setReplyTo(null);
    const restore = () => {
      setText((now) => (now.trim() ? `${typed}\n${now}` : typed));
      setEditing(wasEditing);
      setReplyTo(wasReplyTo);
    };
    void action.run(async () => {
      try {
        if (wasEditing) {
          merge([await api.patch<Message>(`/conversations/${id}/messages/${wasEditing.id}`, { text: body })]);
        } else {
          const sent = await api.post<Message>(`/conversations/${id}/messages`, {
            text: body,
            client_id: newClientId(),
            ...(wasReplyTo ? { reply_to: wasReplyTo.id } : {}),
          });
          merge([sent]);
          draftSaved.current = '';
        }
      } catch (err) {
        restore();
        throw err;
      }
    });
  };

  const onType = (value: string) => {
    setText(value);
    if (Date.now() - lastTyping.current > 3000) {
      lastTyping.current = Date.now();
      stream.send({ type: 'typing', conversation_id: id });
    }
  };

  if (loadError)
    return (
      <div className="thread">
        <button type="button" className="back" onClick={onBack}>
          ← Back to the list
        </button>
        <ErrorNote error={loadError} />
      </div>
    );
  if (!conv) return <Busy label="Loading the conversation…" />;
  const title = conversationTitle(conv, directNames);

  const allowAll = conv.kind === 'group' || conv.kind === 'channel';
  return (
    <div className={`thread-layout ${openRoot ? 'thread-open' : ''}`}>
      <div className={`thread ${conv.kind === 'support' ? 'thread-support' : ''}`}>
        <ThreadHeader
          session={session}
          id={id}
          conv={conv}
          title={title}
          action={action}
          setMe={setMe}
          onBack={onBack}
          onGone={onGone}
        />
        {conv.kind === 'support' && (
          <SupportWorkspace session={session} id={id} onMember={setMe} onClosed={setClosed} />
        )}
        {conv.kind === 'group' || conv.kind === 'channel' ? (
          <ConversationSettings session={session} conv={conv} members={memberList} presence={presence} />
        ) : (
          <MembersBar kind={conv.kind} members={members} presence={presence} meId={me.actor.id} />
        )}
        {pin && (
          <PinBanner session={session} id={id} pin={pin} action={action} onUnpinned={() => setPin(null)} />
        )}
        <ErrorNote error={action.error} />
        <ol className="messages" aria-label="Messages">
          {older && (
            <li>
              <button type="button" disabled={action.busy} onClick={() => void action.run(loadOlder)}>
                Load older messages
              </button>
            </li>
          )}
          {sorted.length === 0 && (
            <li>
              <Empty>No messages yet. Say hello.</Empty>
            </li>
          )}
          {sorted.map((m, i) => {
            const prev = i > 0 ? sorted[i - 1] : undefined;
            const newDay = !prev || !sameDay(new Date(prev.created_at), new Date(m.created_at));
            const first =
              newDay ||
              !prev ||
              prev.sender_id !== m.sender_id ||
              prev.deleted !== m.deleted ||
              m.reply_to_id !== null ||
              Date.parse(m.created_at) - Date.parse(prev.created_at) > GROUP_WINDOW_MS;
            return (
              <Fragment key={m.id}>
                {newDay && (
                  <li className="day-separator">
                    <h3>{dayLabel(m.created_at, now)}</h3>
                  </li>
                )}
                <MessageItem
                  message={m}
                  first={first}
                  highlighted={m.id === focusId}
                  parent={m.reply_to_id ? messages.get(m.reply_to_id) : undefined}
                  names={names}
                  own={m.sender_id === me.actor.id}
                  onReply={() => setReplyTo(m)}
                  onPin={() => setPinFor(m)}
                  onEdit={() => {
                    setEditing(m);
                    setText(fromWire(m.text, names, picked.current));
                  }}
                  mentions={mentionEnv}
                  presence={presence.get(m.sender_id)}
                  below={
                    !m.deleted && (
                      <>
                        <Reactions
                          api={api}
                          conversationId={id}
                          messageId={m.id}
                          reactions={(m as ChatMessage).reactions ?? []}
                          meId={me.actor.id}
                          names={names}
                          onChange={(reactions) => merge([{ ...m, reactions } as ChatMessage])}
                          onError={action.setError}
                        />
                        <ThreadSummary
                          message={m as ChatMessage}
                          open={openRoot === m.id}
                          onOpen={() => openThread(m.id)}
                        />
                        {i === sorted.length - 1 && (
                          <SeenBy
                            receipts={receipts}
                            messageId={m.id}
                            senderId={m.sender_id}
                            names={names}
                            kind={conv.kind}
                          />
                        )}
                      </>
                    )
                  }
                  onDelete={() =>
                    action.run(async () =>
                      merge([await api.del<Message>(`/conversations/${id}/messages/${m.id}`)]),
                    )
                  }
                />
              </Fragment>
            );
          })}
          <li ref={bottom} aria-hidden="true" />
        </ol>
        {pinFor && (
          <PinForm
            session={session}
            id={id}
            message={pinFor}
            expiry={pinExpiry}
            action={action}
            onPinned={(p) => {
              setPin(p);
              setPinFor(null);
            }}
            onCancel={() => setPinFor(null)}
          />
        )}
        <p className="typing" aria-live="polite">
          {typing ? `${typing.name} is typing…` : ''}
        </p>
        {closed ? (
          <p className="chat-closed" role="status">
            {closed.state === 'ended' ? (
              'This chat has ended.'
            ) : closed.email ? (
              <>
                Missed chat: answer the visitor by email at{' '}
                <a href={`mailto:${closed.email}`}>{closed.email}</a>.
              </>
            ) : (
              'Missed chat: the visitor left no email address.'
            )}
          </p>
        ) : (
          <Composer
            title={title}
            text={text}
            replyTo={replyTo}
            editing={editing}
            names={names}
            busy={action.busy}
            onType={onType}
            onCancelMode={() => {
              setReplyTo(null);
              if (editing) setText('');
              setEditing(null);
            }}
            onSubmit={submit}
            assist={canned}
            attach={
              <>
                <MentionPicker
                  inputId="composer"
                  text={text}
                  members={members}
                  meId={me.actor.id}
                  allowAll={allowAll}
                  onSearch={memberList.loadAll}
                  onPick={(t, _caret, m) => {
                    if (m) picked.current.set(m.name, m.id);
                    setText(t);
                  }}
                />
                <Uploader conversationId={id} />
              </>
            }
          />
        )}
      </div>
      {openRoot && (
        <ThreadPanel
          key={openRoot}
          session={session}
          conversationId={id}
          rootId={openRoot}
          members={members}
          onMemberSearch={memberList.loadAll}
          presence={presence}
          allowAll={allowAll}
          onClose={() => openThread(null)}
          onReplied={(m) => merge([m])}
        />
      )}
    </div>
  );
}
