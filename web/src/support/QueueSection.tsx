import { Link } from 'react-router';
import type { Session } from '../App.tsx';
import { Avatar, ErrorNote, RelativeTime } from '../ui.tsx';
import { isSupportStaff } from './staff.ts';
import type { ChatListItem } from './types.ts';
import { useSupportQueue } from './useSupportQueue.ts';

/**
 * Above the conversation list, for operators: waiting chats per department, the chats that wait
 * (open one to pick it up) and "My open chats". Live: every support.* event reads them again.
 */
export function SupportListSection({ session, selected }: { session: Session; selected: string | null }) {
  if (!isSupportStaff(session.me)) return null;
  return <Section session={session} selected={selected} />;
}

function Section({ session, selected }: { session: Session; selected: string | null }) {
  const queue = useSupportQueue(session);
  const total = queue.waiting.length;
  return (
    <section className="support-section" aria-labelledby="support-section-title">
      <h2 id="support-section-title">
        Support <span className={`waiting-badge ${total ? 'has-waiting' : ''}`}>{total} waiting</span>
      </h2>
      <ErrorNote error={queue.error} />
      {queue.counts.length > 0 && (
        <ul className="queue-counts" aria-label="Waiting chats per department">
          {queue.counts.map((c) => (
            <li key={c.department.id} className={c.waiting ? 'has-waiting' : ''}>
              <span className="dept">{c.department.name}</span>
              <span className="count">
                {c.waiting}
                <span className="sr-only"> waiting</span>
              </span>
              <small>{c.available_operators} available</small>
            </li>
          ))}
        </ul>
      )}
      {total > 0 && (
        <>
          <h3>Waiting</h3>
          <ul className="conv-list support-list" aria-label="Waiting chats">
            {queue.waiting.map((c) => {
              const name = c.visitor?.name ?? 'Visitor';
              return (
                <li key={c.id}>
                  <Link
                    to={`/conversations/${c.id}`}
                    className="conv waiting"
                    aria-current={selected === c.id ? 'page' : undefined}
                    aria-label={`${name}, waiting${c.department ? ` in ${c.department.name}` : ''}`}
                  >
                    <Avatar name={name} kind="support" />
                    <span className="conv-title">{name}</span>
                    <span className="conv-marks">
                      <span className="mark waiting-mark">waiting</span>
                    </span>
                    <span className="conv-last">
                      {c.department ? `${c.department.name}: ` : ''}
                      {c.question ?? ''}
                    </span>
                    <RelativeTime className="conv-time" at={c.created_at} />
                  </Link>
                </li>
              );
            })}
          </ul>
        </>
      )}
      {queue.missed.length > 0 && (
        <>
          <h3>
            Missed{' '}
            <span className="missed-badge">
              {queue.missed.length}
              <span className="sr-only"> missed</span>
            </span>
          </h3>
          <MissedList chats={queue.missed.slice(0, 10)} selected={selected} />
          {queue.missed.length > 10 && (
            <p className="small">
              <Link to="/support">All {queue.missed.length} missed chats</Link>
            </p>
          )}
        </>
      )}
      <h3>My open chats</h3>
      {queue.loaded && queue.mine.length === 0 ? (
        <p className="empty small">None: pick up a waiting chat.</p>
      ) : (
        <ul className="conv-list support-list" aria-label="My open chats">
          {queue.mine.map((c) => {
            const name = c.title ?? c.visitor?.name ?? 'Visitor';
            return (
              <li key={c.id}>
                <Link
                  to={`/conversations/${c.id}`}
                  className="conv"
                  aria-current={selected === c.id ? 'page' : undefined}
                  aria-label={`${name}, ${c.state}`}
                >
                  <Avatar name={name} kind="support" />
                  <span className="conv-title">{name}</span>
                  <span className="conv-marks">
                    <span className="mark">{c.state}</span>
                  </span>
                  <span className="conv-last">
                    {c.department ? `${c.department.name}: ` : ''}
                    {c.question ?? ''}
                  </span>
                  <RelativeTime className="conv-time" at={c.attended_at ?? c.created_at} />
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** The start of a left message, on one line. */
function preview(text: string | null): string {
  const line = (text ?? '').replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/**
 * Missed chats (a visitor found nobody available and left a message), newest first: the
 * visitor's name and the start of the message. Open one to read it and answer by email.
 */
export function MissedList({ chats, selected }: { chats: ChatListItem[]; selected: string | null }) {
  return (
    <ul className="conv-list support-list" aria-label="Missed chats">
      {chats.map((c) => {
        const name = c.visitor?.name ?? c.title ?? 'Visitor';
        return (
          <li key={c.id}>
            <Link
              to={`/conversations/${c.id}`}
              className="conv missed"
              aria-current={selected === c.id ? 'page' : undefined}
              aria-label={`${name}, missed${c.department ? ` in ${c.department.name}` : ''}`}
            >
              <Avatar name={name} kind="support" />
              <span className="conv-title">{name}</span>
              <span className="conv-marks">
                <span className="mark missed-mark">missed</span>
              </span>
              <span className="conv-last">
                {c.department ? `${c.department.name}: ` : ''}
                {preview(c.question)}
              </span>
              <RelativeTime className="conv-time" at={c.missed_at ?? c.created_at} />
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
