import { createTransport } from 'nodemailer';
import type { AppContext, Db } from '../context.ts';
import {
  claimDueMail,
  deleteFinishedMailBefore,
  insertMail,
  type OutboxMail,
  recordMailAttempt,
} from '../store/repos/mail.ts';
import { renderTranscript } from './transcripts.ts';

/**
 * Mail. Whatever Parley sends is first written to the outbox in the transaction that decides to
 * send it (a job's completion), so a crash can neither lose it nor send it for a change that
 * rolled back. The sender then delivers it over SMTP (`SMTP_URL`, through nodemailer). Without
 * SMTP the mail stays in the outbox with status `unsent` and is written to the log in full.
 */

/** The logger work loops write to (pino's, from Fastify). */
export interface WorkLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLog: WorkLog = { info() {}, warn() {}, error() {} };

export interface NewMail {
  orgId: string;
  to: string;
  subject: string;
  body: string;
  /** A transcript mail: its body is rendered from this support chat when sent (services/transcripts.ts). */
  transcriptOf?: string | undefined;
}

/** Attempts before an undeliverable mail is given up (about 4 hours of back-off). */
export const MAX_MAIL_ATTEMPTS = 8;
const mailRetryMs = (attempt: number) => Math.min(60 * 60_000, 60_000 * 2 ** Math.max(0, attempt - 1));

/** Writes mail to the outbox in the caller's transaction; the sender picks it up after commit. */
export async function queueMail(ctx: AppContext, tx: Db, mails: readonly NewMail[]): Promise<void> {
  const now = ctx.clock.now();
  await insertMail(
    tx,
    mails.map(
      (m): OutboxMail => ({
        id: ctx.ids.next(),
        orgId: m.orgId,
        to: m.to,
        subject: m.subject,
        body: m.body,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        lastError: null,
        messageId: null,
        createdAt: now,
        sentAt: null,
        transcriptOf: m.transcriptOf ?? null,
      }),
    ),
  );
}

type Transport = ReturnType<typeof createTransport>;
const transports = new WeakMap<AppContext, Transport>();

function transportOf(ctx: AppContext): Transport | undefined {
  if (!ctx.config.smtpUrl) return undefined;
  let t = transports.get(ctx);
  if (!t) {
    t = createTransport({
      url: ctx.config.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    transports.set(ctx, t);
  }
  return t;
}

/**
 * Sends up to `limit` due mails from the outbox and returns how many it handled. Each mail is
 * taken under a lease, so several nodes never send the same one at once; a failed send is
 * retried with back-off (1 minute doubling to an hour) and given up after MAX_MAIL_ATTEMPTS
 * (status `failed`, logged). Without SMTP each mail is logged and kept as `unsent`.
 */
export async function sendDueMail(ctx: AppContext, log: WorkLog = silentLog, limit = 20): Promise<number> {
  const now = ctx.clock.now();
  const mails = await claimDueMail(ctx.db, {
    now,
    leaseUntil: now + 5 * 60_000,
    limit,
    skipLocked: ctx.caps.skipLocked,
  });
  const transport = transportOf(ctx);
  for (const queued of mails) {
    let m = queued;
    if (m.transcriptOf !== null) {
      // Rendered now, from the chat's messages as they are: deleted text never goes out.
      const body = await renderTranscript(ctx.db, m.orgId, m.transcriptOf);
      if (body === null) {
        log.info({ mail: { id: m.id } }, 'transcript not sent: its chat is gone');
        await recordMailAttempt(ctx.db, m, {
          status: 'failed',
          nextAttemptAt: now,
          error: 'the chat was deleted before its transcript was sent',
          messageId: null,
          now,
          countAttempt: false,
        });
        continue;
      }
      m = { ...m, body };
    }
    if (!transport) {
      log.info(
        { mail: { id: m.id, to: m.to, subject: m.subject, body: m.body } },
        'mail kept in the outbox: SMTP_URL is not set',
      );
      await recordMailAttempt(ctx.db, m, {
        status: 'unsent',
        nextAttemptAt: now,
        error: null,
        messageId: null,
        now,
        countAttempt: false,
      });
      continue;
    }
    try {
      const info = await transport.sendMail({
        from: ctx.config.mailFrom,
        to: m.to,
        subject: m.subject,
        text: m.body,
        headers: { 'X-Parley-Mail-Id': m.id },
      });
      await recordMailAttempt(ctx.db, m, {
        status: 'sent',
        nextAttemptAt: now,
        error: null,
        messageId: typeof info.messageId === 'string' ? info.messageId : null,
        now: ctx.clock.now(),
        countAttempt: true,
      });
    } catch (err) {
      const attempt = m.attempts + 1;
      const giveUp = attempt >= MAX_MAIL_ATTEMPTS;
      const error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      (giveUp ? log.error : log.warn).call(
        log,
        { mail: { id: m.id, to: m.to }, attempt, err: error },
        giveUp ? 'mail given up' : 'mail not sent; will retry',
      );
      await recordMailAttempt(ctx.db, m, {
        status: giveUp ? 'failed' : 'pending',
        nextAttemptAt: ctx.clock.now() + mailRetryMs(attempt),
        error,
        messageId: null,
        now: ctx.clock.now(),
        countAttempt: true,
      });
    }
  }
  return mails.length;
}

/** How long sent (or given-up) mail stays in the outbox; `unsent` mail stays until removed by hand. */
export const MAIL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Periodic: forgets sent and given-up mail older than MAIL_RETENTION_MS. */
export function sweepOldMail(ctx: AppContext): Promise<number> {
  return deleteFinishedMailBefore(ctx.db, ctx.clock.now() - MAIL_RETENTION_MS);
}
