import { Avatar } from '../ui.tsx';
import type { Member, PresenceStatus } from './teamchat.ts';

const LABEL: Record<PresenceStatus, string> = { online: 'online', away: 'away', offline: 'offline' };

/** A small coloured dot: green online, amber away, grey offline (with a text label for screen readers). */
export function PresenceDot({ status }: { status: PresenceStatus | undefined }) {
  const s = status ?? 'offline';
  return <span className={`presence-dot presence-${s}`} title={LABEL[s]} role="img" aria-label={LABEL[s]} />;
}

/** An avatar with its presence dot. */
export function PresenceAvatar({
  name,
  status,
  size = 'md',
}: {
  name: string;
  status: PresenceStatus | undefined;
  size?: 'sm' | 'md';
}) {
  return (
    <span className="presence-avatar">
      <Avatar name={name} size={size} />
      <PresenceDot status={status} />
    </span>
  );
}

/**
 * Under the conversation's header: in a direct chat the other person's presence; elsewhere the
 * members (online first) with their dots, folded on phones.
 */
export function MembersBar({
  kind,
  members,
  presence,
  meId,
}: {
  kind: string;
  members: Member[];
  presence: Map<string, PresenceStatus>;
  meId: string;
}) {
  if (members.length === 0) return null;
  if (kind === 'direct') {
    const other = members.find((m) => m.id !== meId);
    if (!other) return null;
    const s = presence.get(other.id) ?? 'offline';
    return (
      <p className="members-bar dm-presence">
        <PresenceDot status={s} /> {other.name} is {s}
      </p>
    );
  }
  const rank = { online: 0, away: 1, offline: 2 } as const;
  const sorted = [...members].sort(
    (a, b) =>
      rank[presence.get(a.id) ?? 'offline'] - rank[presence.get(b.id) ?? 'offline'] ||
      a.name.localeCompare(b.name),
  );
  const online = members.filter((m) => presence.get(m.id) === 'online').length;
  return (
    <details className="members-bar">
      <summary>
        Members ({members.length}) · {online} online
      </summary>
      <ul aria-label="Members">
        {sorted.map((m) => (
          <li key={m.id} aria-label={`${m.name}, ${presence.get(m.id) ?? 'offline'}`}>
            <PresenceAvatar name={m.name} status={presence.get(m.id)} size="sm" /> {m.name}
            {m.id === meId && <small> (you)</small>}
          </li>
        ))}
      </ul>
    </details>
  );
}
