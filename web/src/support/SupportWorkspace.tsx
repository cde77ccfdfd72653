import { useCallback, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import type { Session } from '../App.tsx';
import type { Conversation, MemberState, SupportChat } from '../api.ts';
import { ErrorNote, useAction } from '../ui.tsx';
import { SupportActions } from './SupportActions.tsx';
import { isSupportStaff } from './staff.ts';
import type { VisitorPanelData } from './types.ts';
import { refreshSupportQueue } from './useSupportQueue.ts';
import { VisitorPanel } from './VisitorPanel.tsx';

/**
 * A support chat's workspace inside the conversation view (staff only): its state and actions,
 * and the visitor panel. It follows the stream: when another operator picks the chat up, or the
 * visitor or someone else ends it, it reads the chat again.
 */
export function SupportWorkspace({
  session,
  id,
  onMember,
  onClosed,
}: {
  session: Session;
  id: string;
  /** You joined the chat (a pickup): your member state, so the thread lets you answer. */
  onMember: (me: MemberState) => void;
  /** The chat is closed (ended or missed; null while open): the thread shows a notice, no composer. */
  onClosed?: (closed: ClosedChat | null) => void;
}) {
  if (!isSupportStaff(session.me)) return null;
  return <Workspace session={session} id={id} onMember={onMember} onClosed={onClosed} />;
}

/** A support chat that takes no more messages, and the visitor's address for a missed one. */
export interface ClosedChat {
  state: 'ended' | 'missed';
  email: string | null;
}

function closedOf(chat: SupportChat | null, panel: VisitorPanelData | null): ClosedChat | null {
  if (!chat || (chat.state !== 'ended' && chat.state !== 'missed')) return null;
  return {
    state: chat.state as ClosedChat['state'],
    email: panel?.contact_email ?? panel?.visitor?.email ?? null,
  };
}

function Workspace({
  session,
  id,
  onMember,
  onClosed,
}: {
  session: Session;
  id: string;
  onMember: (me: MemberState) => void;
  onClosed?: (closed: ClosedChat | null) => void;
}) {
  const { api, stream } = session;
  const [chat, setChat] = useState<SupportChat | null>(null);
  const [panel, setPanel] = useState<VisitorPanelData | null>(null);
  const [error, setError] = useState<unknown>(null);
  const action = useAction();
  const navigate = useNavigate();

  const load = useCallback(async () => {
    try {
      const [c, p] = await Promise.all([
        api.get<SupportChat>(`/support/chats/${id}`),
        api.get<VisitorPanelData>(`/support/chats/${id}/visitor`),
      ]);
      if (p.visitor) session.names.set(p.visitor.id, p.visitor.name);
      setChat(c);
      setPanel(p);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [api, id, session.names]);

  useEffect(() => {
    void load();
  }, [load]);

  const closed = closedOf(chat, panel);
  const closedKey = closed ? `${closed.state}:${closed.email}` : '';
  // biome-ignore lint/correctness/useExhaustiveDependencies: reports when the closed state changes
  useEffect(() => {
    onClosed?.(closed);
  }, [closedKey, onClosed]);

  useEffect(
    () =>
      stream.on((e) => {
        if (!e.event.startsWith('support.')) return;
        const about = e.conversation_id ?? (e.data as { conversation_id?: string }).conversation_id;
        if (about === id) void load();
      }),
    [stream, id, load],
  );

  const changed = (next: SupportChat, picked = false) => {
    setChat(next);
    refreshSupportQueue(session);
    void api
      .get<VisitorPanelData>(`/support/chats/${id}/visitor`)
      .then(setPanel)
      .catch(() => undefined);
    if (picked)
      void api
        .get<Conversation>(`/conversations/${id}`)
        .then((c) => c.me && onMember(c.me))
        .catch(() => undefined);
  };

  if (error) return <ErrorNote error={error} />;
  if (!chat) return null;
  return (
    <section className="support-workspace" aria-label="Support">
      <SupportActions
        session={session}
        chat={chat}
        action={action}
        onChanged={changed}
        onDeleted={() => navigate('/conversations')}
      />
      {panel && <VisitorPanel panel={panel} />}
    </section>
  );
}
