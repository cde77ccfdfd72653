import { useState } from 'react';
import { Link } from 'react-router';
import { time } from '../ui.tsx';
import type { VisitorPanelData } from './types.ts';

const WIDE = '(min-width: 1100px)';

/**
 * Who the visitor is: details (verified when the site signed them), department, the page the chat
 * started on, where the transcript goes, and their previous chats (links). A side column on a wide
 * screen; a collapsible section (closed at first) on a phone or a narrow window.
 */
export function VisitorPanel({ panel }: { panel: VisitorPanelData }) {
  const [open, setOpen] = useState(() => window.matchMedia?.(WIDE).matches ?? true);
  const v = panel.visitor;
  const name = v?.name ?? panel.title ?? 'Visitor';
  return (
    <details
      className="visitor-panel"
      open={open}
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>
        <span className="summary-label">Visitor</span> <strong>{name}</strong>
        {v?.verified && <span className="mark verified">verified</span>}
      </summary>
      <dl className="details" aria-label="Visitor details">
        <dt>Name</dt>
        <dd>{name}</dd>
        <dt>Email</dt>
        <dd>{v?.email ?? '—'}</dd>
        {v?.phone && (
          <>
            <dt>Phone</dt>
            <dd>{v.phone}</dd>
          </>
        )}
        {v?.country && (
          <>
            <dt>Country</dt>
            <dd>{v.country}</dd>
          </>
        )}
        {v?.external_id && (
          <>
            <dt>Customer id</dt>
            <dd>{v.external_id}</dd>
          </>
        )}
        <dt>Department</dt>
        <dd>{panel.department?.name ?? '—'}</dd>
        <dt>Started on</dt>
        <dd className="page-url">
          {panel.page_url ? (
            <a href={panel.page_url} target="_blank" rel="noopener noreferrer">
              {panel.page_url}
            </a>
          ) : (
            '—'
          )}
        </dd>
        {panel.widget && (
          <>
            <dt>Widget</dt>
            <dd>{panel.widget.name}</dd>
          </>
        )}
        <dt>Transcript to</dt>
        <dd>{panel.contact_email ?? 'no email given'}</dd>
        {panel.offline && (
          <>
            <dt>Left</dt>
            <dd>as a message while nobody was available</dd>
          </>
        )}
      </dl>
      <h3 className="previous-title">Previous chats</h3>
      {panel.previous_chats.length === 0 ? (
        <p className="empty small">This is their first chat.</p>
      ) : (
        <ul className="previous-chats" aria-label="Previous chats">
          {panel.previous_chats.map((c) => (
            <li key={c.id}>
              <Link to={`/conversations/${c.id}`}>
                #{c.reference_id} · {c.state} · {time(c.created_at)}
              </Link>
              <span className="question">{c.question}</span>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
