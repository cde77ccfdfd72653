import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../src/context.ts';
import type { Actor, Org, UserRole } from '../../src/domain/model.ts';
import { Scope } from '../../src/domain/scopes.ts';
import { createActor } from '../../src/services/actors.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { issueToken } from '../../src/services/tokens.ts';

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
