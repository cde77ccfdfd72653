import { type FormEvent, useEffect, useState } from 'react';
import type { Session } from '../App.tsx';
import { Busy, ErrorNote, useAction } from '../ui.tsx';

export interface TeamChatSettingsData {
  mention_all: boolean;
  read_receipts: boolean;
  read_receipts_max_members: number;
  digest_after_minutes: number;
  public_url: string | null;
}

/**
 * The org's team-chat settings in Admin → Org settings (`GET`/`PATCH /team-chat/settings`):
 * read receipts on or off and the largest group that shows them, whether `@all` is allowed, and
 * the minutes of absence before unread mentions go out by mail (digest). Refusals (out of range:
 * `invalid_setting`) are shown as the server words them, and nothing changes.
 */
export function TeamChatSettings({ session }: { session: Session }) {
  const { api } = session;
  const [settings, setSettings] = useState<TeamChatSettingsData | null>(null);
  const [receipts, setReceipts] = useState(true);
  const [maxMembers, setMaxMembers] = useState('');
  const [mentionAll, setMentionAll] = useState(true);
  const [digest, setDigest] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();

  const show = (s: TeamChatSettingsData) => {
    setSettings(s);
    setReceipts(s.read_receipts);
    setMaxMembers(String(s.read_receipts_max_members));
    setMentionAll(s.mention_all);
    setDigest(String(s.digest_after_minutes));
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: read once
  useEffect(() => {
    void action.run(async () => show(await api.get<TeamChatSettingsData>('/team-chat/settings')));
  }, [api, action.run]);

  const save = (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    void action.run(async () => {
      show(
        await api.patch<TeamChatSettingsData>('/team-chat/settings', {
          read_receipts: receipts,
          read_receipts_max_members: Number(maxMembers),
          mention_all: mentionAll,
          digest_after_minutes: Number(digest),
        }),
      );
      setSaved('Team-chat settings saved.');
    });
  };

  return (
    <form className="settings-form" aria-label="Team chat" onSubmit={save}>
      <h2>Team chat</h2>
      {!settings && !action.error && <Busy label="Loading team-chat settings…" />}
      {settings && (
        <>
          <label className="row">
            <input type="checkbox" checked={receipts} onChange={(e) => setReceipts(e.target.checked)} /> Read
            receipts (“Seen by”)
          </label>
          <label>
            Largest group that shows read receipts (members)
            <input
              type="number"
              value={maxMembers}
              onChange={(e) => setMaxMembers(e.target.value)}
              disabled={!receipts}
              required
            />
          </label>
          <label className="row">
            <input type="checkbox" checked={mentionAll} onChange={(e) => setMentionAll(e.target.checked)} />{' '}
            Allow <code>@all</code> in groups and channels
          </label>
          <label>
            Minutes away before unread mentions are mailed (digest; 0: never)
            <input type="number" value={digest} onChange={(e) => setDigest(e.target.value)} required />
          </label>
          <button type="submit" disabled={action.busy}>
            Save team chat
          </button>
        </>
      )}
      {saved && (
        <p className="notice" role="status">
          {saved}
        </p>
      )}
      <ErrorNote error={action.error} />
    </form>
  );
}
