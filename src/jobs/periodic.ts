import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.ts';
import { sweepNonces } from '../services/apps.ts';
import { sweepAttachments } from '../services/attachments.ts';
import { sendDigests } from '../services/digest.ts';
import { sweepOldEvents } from '../services/events.ts';
import { sweepIdempotencyKeys } from '../services/idempotency.ts';
import { sweepOldMail } from '../services/mail.ts';
import { sweepSessions } from '../services/oidc.ts';
import { sweepExpiredPins } from '../services/pins.ts';
import { purgeExpired } from '../services/recycle-bin.ts';
import { markMissedChats } from '../services/support.ts';
import { sweepOldDeliveries } from '../services/webhook-delivery.ts';

/** Periodic work of one process: name, interval, and why that interval. */
const tasks = [
  {
    name: 'sweep-expired-pins',
    everyMs: 60_000,
    // Reads already hide expired pins; the sweep only reclaims rows, so once a minute is plenty.
    run: (ctx: AppContext) => sweepExpiredPins(ctx),
  },
  {
    name: 'sweep-idempotency-keys',
    everyMs: 60 * 60_000,
    // Keys live for a day; an hourly sweep keeps the table small without mattering to anyone.
    run: (ctx: AppContext) => sweepIdempotencyKeys(ctx),
  },
  {
    name: 'sweep-used-nonces',
    everyMs: 5 * 60_000,
    // A nonce only matters while its timestamp is within the 10-minute window.
    run: (ctx: AppContext) => sweepNonces(ctx),
  },
  {
    name: 'sweep-console-sessions',
    everyMs: 60 * 60_000,
    // Expired sessions are refused already; the sweep only reclaims their rows (and abandoned sign-ins).
    run: (ctx: AppContext) => sweepSessions(ctx),
  },
  {
    name: 'mark-missed-chats',
    everyMs: 10_000,
    // Waits are minutes long (180 s by default); 10 s late is within what a visitor notices.
    run: (ctx: AppContext) => markMissedChats(ctx),
  },
  {
    name: 'purge-recycle-bin',
    everyMs: 60 * 60_000,
    // Retention is counted in days; hourly keeps purges small, and they run in chunks that yield.
    run: (ctx: AppContext) => purgeExpired(ctx, { chunk: 100 }),
  },
  {
    name: 'sweep-old-events',
    everyMs: 60 * 60_000,
    // Events are kept three days for catch-up; an hourly sweep is plenty.
    run: (ctx: AppContext) => sweepOldEvents(ctx),
  },
  {
    name: 'sweep-webhook-deliveries',
    everyMs: 60 * 60_000,
    // Finished deliveries are kept 30 days for lists and exports; hourly keeps the deletes small.
    run: (ctx: AppContext) => sweepOldDeliveries(ctx),
  },
  {
    name: 'send-digest-mail',
    everyMs: 60_000,
    // Digests wait minutes (30 by default); a minute late is within what anyone notices.
    run: (ctx: AppContext) => sendDigests(ctx),
  },
  {
    name: 'sweep-mail-outbox',
    everyMs: 6 * 60 * 60_000,
    // Sent mail is kept 30 days; a few sweeps a day are plenty for a table this small.
    run: (ctx: AppContext) => sweepOldMail(ctx),
  },
  {
    name: 'sweep-attachments',
    everyMs: 15 * 60_000,
    // Unattached uploads go after a day; deletes and purges sweep at once, this catches the rest.
    run: (ctx: AppContext) => sweepAttachments(ctx),
  },
];

/** Starts every periodic task on a timer that does not keep the process alive; returns a stop function. */
export function startPeriodicWork(ctx: AppContext, log: FastifyBaseLogger): () => void {
  const timers = tasks.map((t) => {
    const timer = setInterval(() => {
      t.run(ctx).catch((err: unknown) => log.error({ err, task: t.name }, 'periodic task failed'));
    }, t.everyMs);
    timer.unref();
    return timer;
  });
  return () => {
    for (const t of timers) clearInterval(t);
  };
}
