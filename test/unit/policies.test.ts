import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForbiddenError } from '../../src/domain/errors.ts';
import type { Conversation, MemberState, Message } from '../../src/domain/model.ts';
import {
  canIssueTokenFor,
  canManageApps,
  canManageRateLimits,
  canManageWebhooks,
  canSeeAllTokens,
} from '../../src/domain/policies/admin.ts';
import {
  canAddMembers,
  canCreateConversation,
  canDeleteMessage,
  canEditMessage,
  canLeave,
  canManageActors,
  canRemoveMember,
  canRename,
  canSend,
} from '../../src/domain/policies/conversation.ts';
import { authorize, type Decision } from '../../src/domain/policies/decision.ts';
import { fakeActor, fakePrincipal } from '../support/records.ts';

const conv = (kind: Conversation['kind']): Conversation => ({
  id: '10',
  orgId: '1',
  kind,
  title: null,
  creatorId: '1',
  memberCount: 2,
  lastMessageId: null,
  lastActivityAt: 0,
  createdAt: 0,
  updatedAt: 0,
});
const member = (
  actorId: string,
  role: MemberState['role'] = 'member',
  leftAt: number | null = null,
): MemberState => ({
  conversationId: '10',
  actorId,
  role,
  joinedAt: 0,
  leftAt,
  mutedUntil: null,
  readMessageId: null,
  unreadCount: 0,
  draft: null,
  draftUpdatedAt: null,
  hidden: false,
  pinned: false,
  activityAt: 0,
});
const msg = (senderId: string, deleted = false): Message => ({
  id: '20',
  orgId: '1',
  conversationId: '10',
  senderId,
  type: 'text',
  text: 't',
  metadata: null,
  replyToId: null,
  clientId: null,
  createdAt: 0,
  editedAt: null,
  deletedAt: deleted ? 1 : null,
});
const code = (d: Decision) => (d.allowed ? 'allow' : d.reason);

const plain = fakePrincipal(fakeActor('a'));
const orgAdmin = fakePrincipal(fakeActor('b', 'user', 'admin'));
const visitor = fakePrincipal(fakeActor('v', 'visitor', null));

test('policy table', () => {
  const rows: [string, Decision, string][] = [
    ['create support', canCreateConversation(plain, 'support'), 'use_support_api'],
    ['visitor creates channel', canCreateConversation(visitor, 'channel'), 'users_only'],
    ['user creates group', canCreateConversation(plain, 'group'), 'allow'],
    ['rename direct', canRename(plain, conv('direct'), member('a')), 'direct_chat_has_no_title'],
    ['rename group as member', canRename(plain, conv('group'), member('a')), 'allow'],
    ['rename channel as member', canRename(plain, conv('channel'), member('a')), 'not_conversation_admin'],
    ['rename channel as conv admin', canRename(plain, conv('channel'), member('a', 'admin')), 'allow'],
    ['rename channel as org admin', canRename(orgAdmin, conv('channel'), member('b')), 'allow'],
    ['add to direct', canAddMembers(plain, conv('direct'), member('a')), 'direct_chat_is_fixed'],
    ['add to group', canAddMembers(plain, conv('group'), member('a')), 'allow'],
    [
      'add to channel as member',
      canAddMembers(plain, conv('channel'), member('a')),
      'not_conversation_admin',
    ],
    ['add to channel as owner', canAddMembers(plain, conv('channel'), member('a', 'owner')), 'allow'],
    [
      'remove in direct',
      canRemoveMember(plain, conv('direct'), member('a', 'owner'), member('c')),
      'direct_chat_is_fixed',
    ],
    [
      'remove owner as admin',
      canRemoveMember(plain, conv('group'), member('a', 'admin'), member('c', 'owner')),
      'cannot_remove_owner',
    ],
    [
      'remove as member',
      canRemoveMember(plain, conv('group'), member('a'), member('c')),
      'not_conversation_admin',
    ],
    ['remove as owner', canRemoveMember(plain, conv('group'), member('a', 'owner'), member('c')), 'allow'],
    ['leave direct', canLeave(conv('direct')), 'cannot_leave_direct_chat'],
    ['leave group', canLeave(conv('group')), 'allow'],
    ['send after leaving', canSend(member('a', 'member', 5)), 'not_a_member'],
    ['send', canSend(member('a')), 'allow'],
    ['edit others', canEditMessage(plain, msg('c')), 'not_message_sender'],
    ['edit own', canEditMessage(plain, msg('a')), 'allow'],
    ['delete own', canDeleteMessage(plain, msg('a'), member('a')), 'allow'],
    ['delete others as member', canDeleteMessage(plain, msg('c'), member('a')), 'not_message_sender'],
    ['delete others as conv admin', canDeleteMessage(plain, msg('c'), member('a', 'admin')), 'allow'],
    ['delete others as org admin', canDeleteMessage(orgAdmin, msg('c'), member('b')), 'allow'],
    ['manage actors as member', canManageActors(plain), 'admin_role_required'],
    ['manage actors as visitor', canManageActors(visitor), 'admin_role_required'],
    ['manage actors as admin', canManageActors(orgAdmin), 'allow'],
    ['manage apps as member', canManageApps(plain), 'admin_role_required'],
    ['manage apps as admin', canManageApps(orgAdmin), 'allow'],
    ['manage webhooks as member', canManageWebhooks(plain), 'admin_role_required'],
    ['manage webhooks as visitor', canManageWebhooks(visitor), 'admin_role_required'],
    ['manage webhooks as admin', canManageWebhooks(orgAdmin), 'allow'],
    ['manage rate limits as member', canManageRateLimits(plain), 'admin_role_required'],
    ['manage rate limits as admin', canManageRateLimits(orgAdmin), 'allow'],
    ['token for oneself', canIssueTokenFor(plain, plain.actor.id), 'allow'],
    ['token for another as member', canIssueTokenFor(plain, orgAdmin.actor.id), 'admin_role_required'],
    ['token for another as admin', canIssueTokenFor(orgAdmin, plain.actor.id), 'allow'],
  ];
  for (const [name, decision, expected] of rows) assert.equal(code(decision), expected, name);
});

test('authorize throws ForbiddenError with the reason as code', () => {
  assert.doesNotThrow(() => authorize(canLeave(conv('group'))));
  assert.throws(
    () => authorize(canLeave(conv('direct'))),
    (err: unknown) => err instanceof ForbiddenError && err.code === 'cannot_leave_direct_chat',
  );
});

test('only admins see every token of the org', () => {
  assert.equal(canSeeAllTokens(plain), false);
  assert.equal(canSeeAllTokens(visitor), false);
  assert.equal(canSeeAllTokens(orgAdmin), true);
});
