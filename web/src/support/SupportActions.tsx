import { useEffect, useState } from 'react';
import type { Session } from '../App.tsx';
import { type Actor, ApiError, type Page, type SupportChat } from '../api.ts';
import { errorText, type useAction } from '../ui.tsx';

const STATE_LABEL: Record<string, string> = {
  waiting: 'Waiting for an operator',
  connected: 'Connected',
  ended: 'Ended',
  missed: 'Missed',
};

interface Department {
  id: string;
  name: string;
  operator_ids: string[];
}

interface TransferGroup {
  /** null: options without a group. */
  label: string | null;
  options: { value: string; label: string }[];
}

/**
 * Who a connected chat can go to: the staff who serve its department (owners and admins serve
 * every department, an operator with no department too), then, per other department, the staff
 * who serve that one ("Name (Department)": the chat moves to that department with them).
 */
function operatorChoices(departments: Department[], staff: Actor[], chat: SupportChat): TransferGroup[] {
  const listed = new Set(departments.flatMap((d) => d.operator_ids));
  const serves = (a: Actor, d: Department) =>
    a.role === 'owner' || a.role === 'admin' || !listed.has(a.id) || d.operator_ids.includes(a.id);
  const others = staff.filter((a) => a.id !== chat.attender?.id);
  const here = departments.find((d) => d.id === chat.department?.id);
  if (!here)
    return [{ label: null, options: others.map((a) => ({ value: `operator:${a.id}`, label: a.name })) }];
  const groups: TransferGroup[] = [
    {
      label: here.name,
      options: others
        .filter((a) => serves(a, here))
        .map((a) => ({ value: `operator:${a.id}`, label: a.name })),
    },
  ];
  for (const d of departments) {
    if (d.id === here.id) continue;
    const options = others
      .filter((a) => serves(a, d))
      .map((a) => ({ value: `operator:${a.id}:${d.id}`, label: `${a.name} (${d.name})` }));
    if (options.length > 0) groups.push({ label: `Move to ${d.name}`, options });
  }
  return groups.filter((g) => g.options.length > 0);
}

/**
 * The support chat's own controls in the conversation: Pick up (waiting), Transfer (a waiting chat
 * to another department, a connected one to another operator) and End (after a confirmation).
 */
export function SupportActions({
  session,
  chat,
  action,
  onChanged,
  onDeleted,
}: {
  session: Session;
  chat: SupportChat;
  action: ReturnType<typeof useAction>;
  onChanged: (chat: SupportChat, picked?: boolean) => void;
  /** The closed chat went to the recycle bin. */
  onDeleted?: () => void;
}) {
  const { api, me } = session;
  const [notice, setNotice] = useState<string | null>(null);
  const [target, setTarget] = useState('');
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [operators, setOperators] = useState<Actor[]>([]);

  useEffect(() => {
    api
      .get<Page<Department>>('/departments?limit=100')
      .then((p) => setDepartments(p.items))
      .catch(() => undefined);
    api
      .get<Page<Actor>>('/actors?kind=user&limit=100')
      .then((p) => setOperators(p.items.filter((a) => ['operator', 'admin', 'owner'].includes(a.role ?? ''))))
      .catch(() => undefined);
  }, [api]);

  // A change elsewhere (another operator picked it up, the visitor ended it) resets the controls.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the chat's state changes
  useEffect(() => {
    setTarget('');
    setConfirmEnd(false);
  }, [chat.state, chat.attender?.id]);

  const open = chat.state === 'waiting' || chat.state === 'connected';
  const attendedByMe = chat.attender?.id === me.actor.id;
  // A waiting chat moves to another department; a connected one goes to an operator who serves
  // its department, or, in one step, to an operator of another department (the chat moves too).
  const transferChoices: TransferGroup[] =
    chat.state === 'waiting'
      ? [
          {
            label: null,
            options: departments
              .filter((d) => d.id !== chat.department?.id)
              .map((d) => ({ value: `department:${d.id}`, label: d.name })),
          },
        ]
      : operatorChoices(departments, operators, chat);
  const flatChoices = transferChoices.flatMap((g) => g.options);

  const pickup = () =>
    action.run(async () => {
      setNotice(null);
      try {
        onChanged(await api.post<SupportChat>(`/support/chats/${chat.id}/pickup`), true);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'chat_not_waiting') {
          const owner = (err.details as { owner?: { name?: string } } | null)?.owner?.name;
          setNotice(`Too late: ${owner ?? 'another operator'} picked up this chat first.`);
          onChanged(await api.get<SupportChat>(`/support/chats/${chat.id}`));
          return;
        }
        throw err;
      }
    });

  const transfer = () =>
    action.run(async () => {
      const [kind, id, departmentId] = target.split(':');
      const body =
        kind === 'department'
          ? { department_id: id }
          : { operator_id: id, ...(departmentId ? { department_id: departmentId } : {}) };
      const moved = await api.post<SupportChat>(`/support/chats/${chat.id}/transfer`, body);
      const to = flatChoices.find((o) => o.value === target)?.label;
      setNotice(`Transferred to ${to ?? 'them'}.`);
      onChanged(moved);
    });

  // Closed chats go to the recycle bin (admins, or the operator who owns or attends the chat);
  // a refusal is shown as the server words it.
  const remove = () =>
    action.run(async () => {
      const r = await api.post<{ items: { result: string; message: string | null }[] }>(
        '/conversations/delete',
        { ids: [chat.id] },
      );
      const first = r.items[0];
      setConfirmDelete(false);
      if (first?.result !== 'done') throw new Error(first?.message ?? 'The chat was not deleted');
      onDeleted?.();
    });

  const end = () =>
    action.run(async () => {
      onChanged(await api.post<SupportChat>(`/support/chats/${chat.id}/end`));
      setNotice(null);
    });

  return (
    <section className="support-actions" aria-label="Support chat actions">
      <p className={`support-state state-${chat.state}`} role="status">
        <strong className={`state-label-${chat.state}`}>{STATE_LABEL[chat.state] ?? chat.state}</strong>
        {chat.department && <span> · {chat.department.name}</span>}
        {chat.attender && chat.state === 'connected' && (
          <span> · {attendedByMe ? 'you attend it' : `${chat.attender.name} attends it`}</span>
        )}
        <span className="ref"> · #{chat.reference_id}</span>
      </p>
      {open && (
        <div className="support-buttons">
          {chat.state === 'waiting' && (
            <button type="button" className="pickup" disabled={action.busy} onClick={() => void pickup()}>
              Pick up
            </button>
          )}
          {flatChoices.length > 0 && (
            <span className="transfer">
              <label>
                <span className="sr-only">Transfer to</span>
                <select value={target} onChange={(e) => setTarget(e.target.value)} aria-label="Transfer to">
                  <option value="">
                    {chat.state === 'waiting' ? 'Transfer to department…' : 'Transfer to operator…'}
                  </option>
                  {transferChoices.map((g) =>
                    g.label === null ? (
                      g.options.map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))
                    ) : (
                      <optgroup key={g.label} label={g.label}>
                        {g.options.map((o) => (
                          <option key={o.value} value={o.value}>
                            {o.label}
                          </option>
                        ))}
                      </optgroup>
                    ),
                  )}
                </select>
              </label>
              <button type="button" disabled={!target || action.busy} onClick={() => void transfer()}>
                Transfer
              </button>
            </span>
          )}
          {confirmEnd ? (
            <>
              <button type="button" className="danger" disabled={action.busy} onClick={() => void end()}>
                End now
              </button>
              <button type="button" onClick={() => setConfirmEnd(false)}>
                Keep open
              </button>
            </>
          ) : (
            <button type="button" disabled={action.busy} onClick={() => setConfirmEnd(true)}>
              End chat
            </button>
          )}
        </div>
      )}
      {!open && (
        <div className="support-buttons">
          {confirmDelete ? (
            <>
              <button type="button" className="danger" disabled={action.busy} onClick={() => void remove()}>
                Delete now
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" disabled={action.busy} onClick={() => setConfirmDelete(true)}>
              Delete to recycle bin
            </button>
          )}
        </div>
      )}
      {chat.state === 'waiting' && <p className="hint">Pick the chat up to answer the visitor.</p>}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {action.error ? (
        <p className="error" role="alert">
          {errorText(action.error)}
        </p>
      ) : null}
    </section>
  );
}
