import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { ValidationError } from '../domain/errors.ts';
import { teamChatSettingsFrom } from '../domain/team-chat.ts';
import { findActor } from '../store/repos/actors.ts';
import {
  type DigestCandidate,
  disableDigest,
  findDigestCandidates,
  markDigested,
  recordDigestSent,
} from '../store/repos/notify.ts';
import { findOrgSettings, updateOrgSetting } from '../store/repos/orgs.ts';
import { queueMail, silentLog, type WorkLog } from './mail.ts';
import { presenceOf } from './presence.ts';
import { inTransaction } from './tx.ts';

/**
 * The offline digest (docs/api.md#offline-digest-mail): a user with unread direct messages or
 * mentions who has been offline (no stream socket on any node) for N minutes (their own
 * setting, else the org's `digest_after_minutes`; 0: never) gets one mail through the outbox.
 * What a digest covered is recorded per membership (`digest_ordinal`, moved only forward and
 * only by the run that mails it), so the same unread is never mailed twice, even with several
 * nodes running the job. Each mail links to the conversations and carries an unsubscribe link
 * signed with the org's key (HMAC-SHA256), usable without signing in.
 */

const KEY_SETTING = 'team_chat_mail_key';

async function orgKey(ctx: AppContext, orgId: string): Promise<Buffer> {
  const settings = await findOrgSettings(ctx.db, orgId);
  const existing = settings[KEY_SETTING];
  if (typeof existing === 'string' && existing.length >= 43) return Buffer.from(existing, 'base64url');
  await updateOrgSetting(ctx.db, orgId, KEY_SETTING, randomBytes(32).toString('base64url'));
  // Read back what was stored: a racing node's key, if it wrote last, is the one.
  return Buffer.from(String((await findOrgSettings(ctx.db, orgId))[KEY_SETTING]), 'base64url');
}

const mac = (key: Buffer, payload: string) =>
  createHmac('sha256', key).update(`unsubscribe:${payload}`).digest('base64url');

/** `<org>.<actor>.<mac>`: who unsubscribes, signed by their org's key. */
export async function unsubscribeToken(ctx: AppContext, orgId: string, actorId: string): Promise<string> {
  const payload = `${orgId}.${actorId}`;
  return `${payload}.${mac(await orgKey(ctx, orgId), payload)}`;
}

/**
 * Turns the digest off for the token's user (public: the token is the credential). Idempotent.
 * `invalid_token` (400) when it is malformed or its signature does not match.
 */
export async function unsubscribe(ctx: AppContext, token: string): Promise<{ actorId: string }> {
  const bad = () => ValidationError.field('query.token', 'is not a valid unsubscribe token', 'invalid_token');
  const m = /^([1-9][0-9]{0,18})\.([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) throw bad();
  const [, orgId, actorId, sig] = m as unknown as [string, string, string, string];
  const settings = await findOrgSettings(ctx.db, orgId);
  const stored = settings[KEY_SETTING];
  if (typeof stored !== 'string') throw bad();
  const expected = Buffer.from(mac(Buffer.from(stored, 'base64url'), `${orgId}.${actorId}`));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad();
  if (!(await findActor(ctx.db, orgId, actorId))) throw bad();
  await inTransaction(ctx, (tx) => disableDigest(tx.db, orgId, actorId));
  return { actorId };
}

function baseUrl(ctx: AppContext, configured: string | null): string {
  return (configured ?? `http://${ctx.config.host}:${ctx.config.port}`).replace(/\/+$/, '');
}

function mailFor(
  base: string,
  name: string,
  items: DigestCandidate[],
  token: string,
): { subject: string; body: string } {
  const lines = items.map((i) => {
    const where = i.kind === 'direct' ? 'a direct chat' : `"${i.title ?? 'a conversation'}"`;
    const parts = [
      i.kind === 'direct' ? `${i.unreadNew} unread message${i.unreadNew === 1 ? '' : 's'}` : null,
      i.mentionsNew > 0 ? `${i.mentionsNew} mention${i.mentionsNew === 1 ? '' : 's'}` : null,
    ].filter(Boolean);
    return `- ${parts.join(' and ')} in ${where}: ${base}/conversations/${i.conversationId}`;
  });
  const total = items.length;
  return {
    subject: `Parley: unread messages in ${total} conversation${total === 1 ? '' : 's'}`,
    body: [
      `Hello ${name},`,
      '',
      'While you were away:',
      ...lines,
      '',
      `Stop these mails (no sign-in needed): ${base}/v1/notifications/unsubscribe?token=${token}`,
      '',
    ].join('\n'),
  };
}

/**
 * Periodic: mails the digests that are due; returns how many mails were queued. Safe on
 * several nodes at once (the `digest_ordinal` marks decide who mails).
 */
export async function sendDigests(ctx: AppContext, log: WorkLog = silentLog): Promise<number> {
  const now = ctx.clock.now();
  const candidates = await findDigestCandidates(ctx.db, 1_000);
  const byActor = new Map<string, DigestCandidate[]>();
  for (const c of candidates) byActor.set(c.actorId, [...(byActor.get(c.actorId) ?? []), c]);
  const settingsByOrg = new Map<string, ReturnType<typeof teamChatSettingsFrom>>();
  let queued = 0;
  for (const [actorId, items] of byActor) {
    const first = items[0]!;
    const s =
      settingsByOrg.get(first.orgId) ?? teamChatSettingsFrom(await findOrgSettings(ctx.db, first.orgId));
    settingsByOrg.set(first.orgId, s);
    const minutes = first.digestMinutes ?? s.digestAfterMinutes;
    if (minutes <= 0) continue;
    const [presence] = await presenceOf(ctx).read(first.orgId, [actorId]);
    if (presence && presence.status !== 'offline') continue;
    if ((presence?.seenAt ?? 0) > now - minutes * 60_000) continue;
    const token = await unsubscribeToken(ctx, first.orgId, actorId);
    const sent = await inTransaction(ctx, async (tx) => {
      const covered: DigestCandidate[] = [];
      for (const i of items)
        if (await markDigested(tx.db, i.conversationId, actorId, i.messageCount)) covered.push(i);
      if (covered.length === 0) return false;
      const mail = mailFor(baseUrl(ctx, s.publicUrl), first.name, covered, token);
      await queueMail(ctx, tx.db, [{ orgId: first.orgId, to: first.email, ...mail }]);
      await recordDigestSent(tx.db, first.orgId, actorId, now);
      return true;
    });
    if (sent) {
      queued++;
      log.info({ actor: actorId, conversations: items.length }, 'digest mail queued');
    }
  }
  return queued;
}
