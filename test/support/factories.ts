import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../src/context.ts';
import type { Actor, Department, Org, SupportChat, UserRole } from '../../src/domain/model.ts';
import { Scope } from '../../src/domain/scopes.ts';
import { createActor } from '../../src/services/actors.ts';
import { createDepartment, setDepartmentOperators } from '../../src/services/departments.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { startSupportChat } from '../../src/services/support.ts';
import { issueToken } from '../../src/services/tokens.ts';
import { insertConversation, insertMembers } from '../../src/store/repos/conversations.ts';
import { insertMessage } from '../../src/store/repos/messages.ts';
import { call, type TestApp } from './app.ts';

export interface Person {
  actor: Actor;
  token: string;
}

export interface TestOrg {
  org: Org;
  owner: Person;
  /** A user of this org with a full-scope token. */
  user(role?: UserRole, name?: string): Promise<Person>;
  /** A token for `actor` with only these scopes. */
  token(actor: Actor, scopes: Scope[]): Promise<string>;
  visitor(name?: string): Promise<Person>;
}

/** A fresh org per test (tenant isolation instead of truncation), built through the services. */
export async function makeOrg(ctx: AppContext): Promise<TestOrg> {
  const slug = `t-${randomBytes(5).toString('hex')}`;
  const { org, owner } = await createOrg(ctx, {
    slug,
    name: slug,
    ownerName: 'Owner',
    ownerEmail: `owner@${slug}.test`,
  });
  const token = async (actor: Actor, scopes: Scope[]) =>
    (await issueToken(ctx, { orgId: org.id, actorId: actor.id, name: 'test', scopes })).token;
  const ownerPerson: Person = { actor: owner, token: await token(owner, [...Scope]) };
  const principal = { orgId: org.id, actor: owner, scopes: new Set(Scope), tokenId: null };
  let n = 0;
  return {
    org,
    owner: ownerPerson,
    token,
    async user(role: UserRole = 'member', name?: string) {
      n += 1;
      const actor = await createActor(ctx, principal, {
        kind: 'user',
        role,
        name: name ?? `User ${n}`,
        email: `u${n}@${slug}.test`,
      });
      return { actor, token: await token(actor, [...Scope]) };
    },
    async visitor(name?: string) {
      n += 1;
      const actor = await createActor(ctx, principal, {
        kind: 'visitor',
        name: name ?? `Visitor ${n}`,
        channel: 'website',
      });
      return { actor, token: await token(actor, [...Scope]) };
    },
  };
}

export interface GroupSetup {
  o: TestOrg;
  /** The members besides the owner, in the order of `names`. */
  members: Person[];
  /** The first of them. */
  bob: Person;
  /** Users of the org who are not in the group. */
  others: Person[];
  /** The group conversation. */
  id: string;
}

/**
 * The common setup of the API tests: a fresh org, users named `names` (full-scope tokens) and a
 * group conversation titled 'g' that the owner made with them, through the API.
 */
export async function orgWithGroup(
  t: Pick<TestApp, 'app' | 'ctx'>,
  names: readonly string[] = ['Bob'],
  /** Users of the org made first, who are not in the group. */
  outsiders: readonly string[] = [],
): Promise<GroupSetup> {
  const o = await makeOrg(t.ctx);
  const members: Person[] = [];
  for (const name of names) members.push(await o.user('member', name));
  const others: Person[] = [];
  for (const name of outsiders) others.push(await o.user('member', name));
  const c = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'g',
    member_ids: members.map((m) => m.actor.id),
  });
  if (c.status !== 201) throw new Error(`the group was not made: ${c.raw}`);
  return { o, members, others, bob: members[0]!, id: c.body.id as string };
}

/** A principal with every scope for `actor` of `o`, for calling services directly in tests. */
export function principalFor(o: TestOrg, actor: Actor) {
  return { orgId: o.org.id, actor, scopes: new Set(Scope), tokenId: null };
}

/** A department of `o` with these operators, made through the services (as the owner). */
export async function makeDepartment(
  ctx: AppContext,
  o: TestOrg,
  name: string,
  operators: readonly Actor[] = [],
): Promise<Department> {
  const owner = principalFor(o, o.owner.actor);
  const { department } = await createDepartment(ctx, owner, name);
  if (operators.length > 0)
    await setDepartmentOperators(
      ctx,
      owner,
      department.id,
      operators.map((a) => a.id),
    );
  return department;
}

/** A waiting support chat that `visitor` started in `department`, made through the services. */
export async function startWaitingChat(
  ctx: AppContext,
  o: TestOrg,
  visitor: Actor,
  department: Department,
  question = 'Can you help me?',
): Promise<SupportChat> {
  const view = await startSupportChat(ctx, principalFor(o, visitor), {
    departmentId: department.id,
    question,
  });
  return view.chat;
}

/**
 * Closes a test app after tests that ran many requests at once: ends the database pool and lets
 * its sockets finish closing before the test database is dropped. (On PostgreSQL the pool's
 * end() resolves while sockets are still closing, and DROP DATABASE ... WITH (FORCE) would kill
 * them, which the pool, having no error listener, reports as an uncaught exception.)
 */
export async function closeAfterConcurrency(t: { ctx: AppContext; close(): Promise<void> }): Promise<void> {
  await t.ctx.db.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  await t.close();
}

/**
 * Many conversations with messages, written straight through the repos in one transaction (a
 * fast way to give deletion jobs and benchmarks something to delete). Kind `group` by default,
 * with `members` (the first is the creator); message times step by 1 ms from `now`.
 */
export async function seedConversations(
  ctx: AppContext,
  input: {
    orgId: string;
    members: readonly Actor[];
    count: number;
    messagesEach: number;
    kind?: 'group' | 'channel';
  },
): Promise<string[]> {
  const ids: string[] = [];
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (tx) => {
    for (let c = 0; c < input.count; c++) {
      const id = ctx.ids.next();
      ids.push(id);
      await insertConversation(
        tx,
        {
          id,
          orgId: input.orgId,
          kind: input.kind ?? 'group',
          title: `seeded ${c}`,
          creatorId: input.members[0]!.id,
          memberCount: input.members.length,
          lastMessageId: null,
          lastActivityAt: now,
          createdAt: now,
          updatedAt: now,
        },
        null,
      );
      await insertMembers(
        tx,
        input.orgId,
        id,
        input.members.map((m, i) => ({
          actorId: m.id,
          role: i === 0 ? ('owner' as const) : ('member' as const),
        })),
        now,
      );
      for (let m = 0; m < input.messagesEach; m++) {
        await insertMessage(
          tx,
          {
            id: ctx.ids.next(),
            orgId: input.orgId,
            conversationId: id,
            senderId: input.members[m % input.members.length]!.id,
            type: 'text',
            text: `message ${m} of ${c}`,
            metadata: null,
            replyToId: null,
            clientId: null,
            createdAt: now + m,
            editedAt: null,
            deletedAt: null,
          },
          m + 1,
        );
      }
    }
  });
  return ids;
}
