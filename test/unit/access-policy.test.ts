import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canReadConversation, canReadWithoutMembership } from '../../src/domain/policies/access.ts';
import { canSeeSupportChat } from '../../src/domain/policies/support.ts';
import { fakeActor, fakePrincipal } from '../support/records.ts';

/** The owner-access rule (src/domain/policies/access.ts), one line per case. */

const support = { orgId: '1', kind: 'support' as const, visitorId: 'v1' };
const who = {
  owner: fakePrincipal(fakeActor('o', 'user', 'owner')),
  admin: fakePrincipal(fakeActor('a', 'user', 'admin')),
  operator: fakePrincipal(fakeActor('op', 'user', 'operator')),
  member: fakePrincipal(fakeActor('m', 'user', 'member')),
  bot: fakePrincipal(fakeActor('b', 'bot', null)),
  visitor: fakePrincipal(fakeActor('v1', 'visitor', null)),
  otherVisitor: fakePrincipal(fakeActor('v2', 'visitor', null)),
  otherOrgOwner: fakePrincipal(fakeActor('x', 'user', 'owner', { orgId: '2' })),
};

test('support chats: staff and the chat’s visitor read them without membership; nobody else', () => {
  const expected: Record<keyof typeof who, boolean> = {
    owner: true,
    admin: true,
    operator: true,
    member: false,
    bot: false,
    visitor: true,
    otherVisitor: false,
    otherOrgOwner: false,
  };
  for (const [name, p] of Object.entries(who)) {
    const want = expected[name as keyof typeof who];
    assert.equal(canReadWithoutMembership(p, support), want, name);
    // The support API's visibility is the same rule.
    assert.equal(canSeeSupportChat(p, support), want, `${name} (support API)`);
  }
});

test('team conversations: only members, owners and admins included', () => {
  for (const kind of ['direct', 'group', 'channel'] as const) {
    for (const [name, p] of Object.entries(who)) {
      assert.equal(canReadWithoutMembership(p, { orgId: '1', kind }), false, `${name} ${kind}`);
      assert.equal(canReadConversation(p, { orgId: '1', kind }, true), true, `${name} ${kind} as member`);
    }
  }
});
