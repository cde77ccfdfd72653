import type { Session } from '../App.tsx';
import type { Message, Pin } from '../api.ts';
import { plainText } from '../markdown.tsx';
import { time, type useAction } from '../ui.tsx';

const PIN_CHOICES: [string, number][] = [
  ['1 hour', 3_600_000],
  ['1 day', 86_400_000],
  ['1 week', 7 * 86_400_000],
  ['Never', -1],
];

/** The pinned message above the thread, with its expiry and an Unpin button. */
export function PinBanner({
  session,
  id,
  pin,
  action,
  onUnpinned,
}: {
  session: Session;
  id: string;
  pin: Pin;
  action: ReturnType<typeof useAction>;
  onUnpinned: () => void;
}) {
  const { api, names } = session;
  return (
    <section className="pin-banner" aria-label="Pinned message">
      <span className="pin-icon" aria-hidden="true">
        <svg viewBox="0 0 16 16" width="16" height="16" fill="currentColor" aria-hidden="true">
          <path d="M10.5 1.5 14.5 5.5 13 6.3 10.9 8.4 11 12 9.8 13.2 6.9 10.3 2.8 14.4 1.6 14.4 1.6 13.2 5.7 9.1 2.8 6.2 4 5 7.6 5.1 9.7 3Z" />
        </svg>
      </span>
      <span className="pin-text">
        <span className="pin-line">
          <strong>{names.get(pin.message.sender_id) ?? 'Someone'}:</strong> {plainText(pin.message.text)}
        </span>
        <small>
          pinned by {pin.creator.name}
          {pin.expiry_time === -1 ? ', no expiry' : `, expires ${time(pin.expiry_time)}`}
        </small>
      </span>
      <button
        type="button"
        disabled={action.busy}
        onClick={() =>
          action.run(async () => {
            await api.del(`/conversations/${id}/pin`);
            onUnpinned();
          })
        }
      >
        Unpin
      </button>
    </section>
  );
}

/** Pins `message` for a chosen time (`expiry`: the choice, kept by the thread between pins). */
export function PinForm({
  session,
  id,
  message,
  expiry: [pinExpiry, setPinExpiry],
  action,
  onPinned,
  onCancel,
}: {
  session: Session;
  id: string;
  message: Message;
  expiry: [string, (value: string) => void];
  action: ReturnType<typeof useAction>;
  onPinned: (pin: Pin) => void;
  onCancel: () => void;
}) {
  const { api } = session;
  return (
    <form
      className="pin-form"
      aria-label="Pin a message"
      onSubmit={(e) => {
        e.preventDefault();
        const ms = Number(pinExpiry);
        void action.run(async () => {
          onPinned(
            await api.put<Pin>(`/conversations/${id}/pin`, {
              message_id: message.id,
              expiry_time: ms === -1 ? -1 : Date.now() + ms,
            }),
          );
        });
      }}
    >
      <span>Pin “{message.text.slice(0, 60)}”</span>
      <label>
        Pin expires after{' '}
        <select value={pinExpiry} onChange={(e) => setPinExpiry(e.target.value)}>
          {PIN_CHOICES.map(([label, ms]) => (
            <option key={label} value={ms}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={action.busy}>
        Pin it
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}
