import type { AppContext } from '../context.ts';
import type { Actor, Org } from '../domain/model.ts';
import type { Principal } from '../domain/principal.ts';
import { Scope } from '../domain/scopes.ts';
import { findActorByEmailOrExternalId } from '../store/repos/actors.ts';
import { listTokens, revokeToken } from '../store/repos/tokens.ts';
import { createActor } from './actors.ts';
import { createConversation } from './conversations.ts';
import { sendMessage } from './messages.ts';
import { createOrg, getOrgBySlug } from './orgs.ts';
import { pinMessage } from './pins.ts';
import { issueToken } from './tokens.ts';

export const DEMO_SLUG = 'demo';
export const DEMO_OWNER_EMAIL = 'ada@demo.parley.local';
/**
 * How many demo tokens stay valid: each start adds one and keeps the previous ones, so a
 * console still open from an earlier start keeps working; only older ones are revoked.
 */
export const DEMO_TOKENS_KEPT = 5;

function principal(orgId: string, actor: Actor): Principal {
  return { orgId, actor, scopes: new Set(Scope), tokenId: null };
}

/**
 * Creates the demo org once (owner Ada, members Bob and Chen, a bot, a visitor, a channel,
 * a group and a direct chat with a few messages and a pin), then issues a fresh full-scope
 * token for Ada. Tokens are stored hashed, so an earlier one cannot be printed again: the new
 * one is added without revoking the earlier ones (a console signed in with one of them keeps
 * working), and only demo tokens older than the newest DEMO_TOKENS_KEPT are revoked.
 */
export async function seedDemo(
  ctx: AppContext,
): Promise<{ org: Org; owner: Actor; token: string; created: boolean }> {
  let org = await getOrgBySlug(ctx, DEMO_SLUG);
  let created = false;
  if (!org) {
    const made = await createOrg(ctx, {
      slug: DEMO_SLUG,
      name: 'Demo Org',
      ownerName: 'Ada Owner',
      ownerEmail: DEMO_OWNER_EMAIL,
    });
    org = made.org;
    created = true;
    const ada = principal(org.id, made.owner);
    const bob = await createActor(ctx, ada, {
      kind: 'user',
      role: 'member',
      name: 'Bob Member',
      email: 'bob@demo.parley.local',
    });
    const chen = await createActor(ctx, ada, {
      kind: 'user',
      role: 'operator',
      name: 'Chen Operator',
      email: 'chen@demo.parley.local',
    });
    await createActor(ctx, ada, { kind: 'bot', name: 'Helper Bot', externalId: 'helper-bot' });
    await createActor(ctx, ada, {
      kind: 'visitor',
      name: 'Vera Visitor',
      email: 'vera@example.com',
      channel: 'website',
      country: 'NL',
      externalId: 'visitor-1',
    });
    const general = await createConversation(ctx, ada, {
      kind: 'channel',
      title: 'general',
      memberIds: [bob.id, chen.id],
    });
    const welcome = await sendMessage(ctx, ada, general.view.conversation.id, {
      text: 'Welcome to Parley! This is the #general channel.',
    });
    await sendMessage(ctx, principal(org.id, bob), general.view.conversation.id, { text: 'Hi all 👋' });
    await pinMessage(ctx, ada, general.view.conversation.id, {
      messageId: welcome.message.id,
      expiryTime: -1,
    });
    const group = await createConversation(ctx, ada, {
      kind: 'group',
      title: 'Launch plan',
      memberIds: [bob.id, chen.id],
    });
    await sendMessage(ctx, principal(org.id, chen), group.view.conversation.id, {
      text: 'Support queue is staffed for launch day.',
    });
    const dm = await createConversation(ctx, ada, { kind: 'direct', memberIds: [bob.id] });
    await sendMessage(ctx, principal(org.id, bob), dm.view.conversation.id, {
      text: 'Can you review the release notes?',
    });
  }
  const owner = await findActorByEmailOrExternalId(ctx.db, org.id, DEMO_OWNER_EMAIL);
  if (!owner) throw new Error('demo owner missing');
  const { token } = await issueToken(ctx, {
    orgId: org.id,
    actorId: owner.id,
    name: 'demo',
    scopes: [...Scope],
  });
  const now = ctx.clock.now();
  const live = (await listTokens(ctx.db, org.id, owner.id))
    .filter((t) => t.name === 'demo' && t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now))
    .sort((a, b) => b.createdAt - a.createdAt || b.id.length - a.id.length || (b.id < a.id ? -1 : 1));
  for (const old of live.slice(DEMO_TOKENS_KEPT)) await revokeToken(ctx.db, org.id, old.id, now);
  return { org, owner, token, created };
}
