import { useEffect, useState } from 'react';
import type { Api, Page, Person } from './api.ts';
import { Avatar } from './ui.tsx';

/** The org's users (not visitors or bots), read once, without the ids given. */
export function usePeople(api: Api, enabled: boolean, onError: (err: unknown) => void): Person[] | null {
  const [people, setPeople] = useState<Person[] | null>(null);
  useEffect(() => {
    if (!enabled || people) return;
    api
      .get<Page<Person>>('/actors?kind=user&limit=100')
      .then((p) => setPeople(p.items))
      .catch((err) => {
        setPeople([]);
        onError(err);
      });
  }, [enabled, people, api, onError]);
  return people;
}

/**
 * The people picker: a search box (name or email) over a list of people, one (radio) or many
 * (checkboxes) chosen. Used to start a conversation and to add members to one.
 */
export function PeoplePicker({
  legend,
  people,
  chosen,
  single = false,
  onToggle,
}: {
  legend: string;
  people: Person[] | null;
  chosen: string[];
  single?: boolean;
  onToggle: (id: string) => void;
}) {
  const [find, setFind] = useState('');
  const needle = find.trim().toLowerCase();
  const shown = (people ?? []).filter(
    (p) => !needle || p.name.toLowerCase().includes(needle) || (p.email ?? '').toLowerCase().includes(needle),
  );
  const picked = (people ?? []).filter((p) => chosen.includes(p.id));
  return (
    <fieldset className="picker">
      <legend>{legend}</legend>
      <input
        type="search"
        aria-label="Find people"
        placeholder="Find people by name or email"
        value={find}
        onChange={(e) => setFind(e.target.value)}
      />
      {picked.length > 0 && (
        <p className="picked" aria-live="polite">
          Chosen: {picked.map((p) => p.name).join(', ')}
        </p>
      )}
      <ul className="picker-list" aria-label="People">
        {people === null && <li className="muted">Loading people…</li>}
        {people !== null && shown.length === 0 && <li className="muted">Nobody matches.</li>}
        {shown.map((p) => (
          <li key={p.id}>
            <label className="person">
              <input
                type={single ? 'radio' : 'checkbox'}
                name="person"
                checked={chosen.includes(p.id)}
                onChange={() => onToggle(p.id)}
              />
              <Avatar name={p.name} size="sm" />
              <span>
                {p.name}
                {p.role && <small> {p.role}</small>}
              </span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
