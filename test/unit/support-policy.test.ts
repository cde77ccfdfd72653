import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConflictError } from '../../src/domain/errors.ts';
import type { SupportChat, SupportState } from '../../src/domain/model.ts';
import type { Decision } from '../../src/domain/policies/decision.ts';
import {
  canDeleteChat,
  canEnd,
  canManageSupport,
  canPickUp,
  canReroute,
  canSeeSupportChat,
  canStartSupportChat,
  canTransfer,
  canViewQueue,
  isStaff,
  servesDepartment,
} from '../../src/domain/policies/support.ts';
import type { Principal } from '../../src/domain/principal.ts';
import {
  assertTransition,
  canTransition,
  DEFAULT_MISSED_AFTER_SECONDS,
  DEFAULT_RECYCLE_BIN_DAYS,
  fromStates,
  isClosed,
  nextState,
  openKey,
  purgeTime,
  SupportAction,
  supportSettingsFrom,
} from '../../src/domain/support.ts';
import { fakeActor, fakePrincipal } from '../support/records.ts';

const owner = fakePrincipal(fakeActor('owner', 'user', 'owner'));
const admin = fakePrincipal(fakeActor('admin', 'user', 'admin'));
const op = fakePrincipal(fakeActor('op', 'user', 'operator'));
const op2 = fakePrincipal(fakeActor('op2', 'user', 'operator'));
const member = fakePrincipal(fakeActor('member', 'user', 'member'));
const bot = fakePrincipal(fakeActor('bot', 'bot'));
const visitor = fakePrincipal(fakeActor('visitor', 'visitor'));
const otherVisitor = fakePrincipal(fakeActor('visitor2', 'visitor'));

const chat = (state: SupportState, over: Partial<SupportChat> = {}): SupportChat => ({
  id: '10',
  orgId: '1',
  kind: 'support',
  title: null,
  creatorId: 'visitor',
  memberCount: 1,
  lastMessageId: null,
  lastActivityAt: 0,
  createdAt: 0,
  updatedAt: 0,
  state,
  departmentId: 'sales',
  visitorId: 'visitor',
  ownerId: state === 'waiting' ? null : 'op',
  attenderId: state === 'waiting' ? null : 'op',
  question: 'q',
  referenceId: '1',
  uvid: 'u',
  channel: 'website',
  attendedAt: null,
  endedAt: null,
  missedAt: null,
  deletedAt: null,
  purgeAt: null,
  deletedBy: null,
  ...over,
});

function expect(decision: Decision, expected: true | string, label: string) {
  if (expected === true) assert.equal(decision.allowed, true, label);
  else {
    assert.equal(decision.allowed, false, label);
    if (!decision.allowed) assert.equal(decision.reason, expected, label);
  }
}

describe('support policies', () => {
  test('staff and departments', () => {
    for (const [p, staff] of [
      [owner, true],
      [admin, true],
      [op, true],
      [member, false],
      [bot, false],
      [visitor, false],
    ] as const)
      assert.equal(isStaff(p), staff, p.actor.id);
    assert.equal(servesDepartment(op.actor, [], 'sales'), true, 'no departments: serves all');
    assert.equal(servesDepartment(op.actor, ['sales'], 'sales'), true);
    assert.equal(servesDepartment(op.actor, ['billing'], 'sales'), false);
    assert.equal(servesDepartment(admin.actor, ['billing'], 'sales'), true, 'admins serve all');
    assert.equal(servesDepartment(owner.actor, ['billing'], 'sales'), true);
    assert.equal(servesDepartment(member.actor, [], 'sales'), false);
  });

  test('visibility: staff of the org and the chat’s own visitor', () => {
    const c = chat('waiting');
    assert.equal(canSeeSupportChat(op, c), true);
    assert.equal(canSeeSupportChat(visitor, c), true);
    assert.equal(canSeeSupportChat(otherVisitor, c), false);
    assert.equal(canSeeSupportChat(member, c), false);
    assert.equal(canSeeSupportChat(bot, c), false);
    assert.equal(canSeeSupportChat(fakePrincipal(op.actor, '2'), c), false, 'another org');
  });

  test('starting a chat', () => {
    expect(canStartSupportChat(visitor, undefined), true, 'own chat');
    expect(canStartSupportChat(visitor, 'visitor'), true, 'own id');
    expect(canStartSupportChat(visitor, 'visitor2'), 'cannot_start_for_others', 'for another');
    expect(canStartSupportChat(op, 'visitor'), true, 'operator on behalf');
    expect(canStartSupportChat(member, 'visitor'), 'visitor_or_operator_required', 'member');
    expect(canStartSupportChat(bot, undefined), 'visitor_or_operator_required', 'bot');
  });

  test('queue and administration', () => {
    expect(canViewQueue(op), true, 'operator');
    expect(canViewQueue(visitor), 'operator_role_required', 'visitor');
    expect(canViewQueue(member), 'operator_role_required', 'member');
    expect(canManageSupport(owner), true, 'owner');
    expect(canManageSupport(admin), true, 'admin');
    expect(canManageSupport(op), 'admin_role_required', 'operator');
  });

  test('pick up', () => {
    const c = chat('waiting');
    const table: [Principal, readonly string[], { kind?: 'group' }, true | string][] = [
      [op, [], {}, true],
      [op, ['sales'], {}, true],
      [op, ['billing'], {}, 'not_in_department'],
      [admin, ['billing'], {}, true],
      [owner, [], {}, true],
      [member, [], {}, 'operator_role_required'],
      [visitor, [], {}, 'operator_role_required'],
      [op, [], { kind: 'group' }, 'not_a_support_chat'],
    ];
    for (const [p, departments, over, expected] of table)
      expect(
        canPickUp(p, { ...c, ...over }, departments),
        expected,
        `${p.actor.id} ${departments} ${over.kind}`,
      );
  });

  test('transfer and reroute', () => {
    const connected = chat('connected');
    expect(canTransfer(op, connected), true, 'attender');
    expect(canTransfer(op2, connected), 'not_chat_attender', 'another operator');
    expect(canTransfer(op2, { ...connected, ownerId: 'op2' }), true, 'owner');
    expect(canTransfer(admin, connected), true, 'admin');
    expect(canTransfer(visitor, connected), 'operator_role_required', 'visitor');
    const waiting = chat('waiting');
    expect(canReroute(op2, waiting, []), true, 'unrestricted operator');
    expect(canReroute(op2, waiting, ['billing']), 'not_in_department', 'other department');
    expect(canReroute(visitor, waiting, []), 'operator_role_required', 'visitor');
  });

  test('end', () => {
    const connected = chat('connected');
    expect(canEnd(visitor, connected, []), true, 'its visitor');
    expect(canEnd(otherVisitor, connected, []), 'operator_role_required', 'another visitor');
    expect(canEnd(op, connected, []), true, 'attender');
    expect(canEnd(op2, { ...connected, ownerId: 'op2', attenderId: 'op' }, []), true, 'owner');
    expect(canEnd(op2, connected, []), 'not_chat_attender', 'another operator, connected');
    expect(canEnd(admin, connected, []), true, 'admin');
    expect(canEnd(op2, chat('waiting'), []), true, 'waiting, serves the department');
    expect(canEnd(op2, chat('waiting'), ['billing']), 'not_chat_attender', 'waiting, other department');
  });

  test('delete', () => {
    const ended = chat('ended');
    expect(canDeleteChat(admin, ended), true, 'admin');
    expect(canDeleteChat(op, ended), true, 'owner and attender');
    expect(canDeleteChat(op2, { ...ended, ownerId: 'op', attenderId: 'op2' }), true, 'attender');
    expect(canDeleteChat(op2, ended), 'not_chat_owner', 'another operator');
    expect(canDeleteChat(visitor, ended), 'operator_role_required', 'visitor');
    expect(canDeleteChat(admin, { kind: 'group' }), 'not_a_support_chat', 'a group');
  });
});

describe('support state machine', () => {
  test('every action from every state', () => {
    const allowed: Record<SupportAction, SupportState[]> = {
      pick_up: ['waiting'],
      transfer: ['connected'],
      reroute: ['waiting'],
      end: ['waiting', 'connected'],
      miss: ['waiting'],
    };
    const codes: Record<SupportAction, string> = {
      pick_up: 'chat_not_waiting',
      transfer: 'chat_not_connected',
      reroute: 'chat_not_waiting',
      end: 'chat_not_open',
      miss: 'chat_not_waiting',
    };
    for (const action of SupportAction) {
      assert.deepEqual([...fromStates(action)], allowed[action], action);
      for (const state of ['waiting', 'connected', 'ended', 'missed'] as const) {
        const ok = allowed[action].includes(state);
        assert.equal(canTransition(state, action), ok, `${action} from ${state}`);
        if (ok) assert.equal(assertTransition(state, action), nextState(action));
        else
          assert.throws(
            () => assertTransition(state, action, { state }),
            (err: unknown) =>
              err instanceof ConflictError &&
              err.code === codes[action] &&
              (err.details as any).state === state,
          );
      }
    }
    assert.equal(nextState('pick_up'), 'connected');
    assert.equal(nextState('transfer'), 'connected');
    assert.equal(nextState('reroute'), 'waiting');
    assert.equal(nextState('end'), 'ended');
    assert.equal(nextState('miss'), 'missed');
  });

  test('closed states, the open key', () => {
    assert.deepEqual((['waiting', 'connected', 'ended', 'missed'] as const).map(isClosed), [
      false,
      false,
      true,
      true,
    ]);
    assert.equal(openKey('5', '7'), '5:7');
  });

  test('settings: defaults, valid values, and garbage', () => {
    assert.deepEqual(supportSettingsFrom({}), {
      recycleBinDays: DEFAULT_RECYCLE_BIN_DAYS,
      missedAfterSeconds: DEFAULT_MISSED_AFTER_SECONDS,
    });
    assert.equal(DEFAULT_RECYCLE_BIN_DAYS, 90);
    assert.deepEqual(supportSettingsFrom({ recycle_bin_days: 7, support_missed_after_seconds: 30 }), {
      recycleBinDays: 7,
      missedAfterSeconds: 30,
    });
    for (const bad of [0, -1, 1.5, '7', null, 99999])
      assert.equal(supportSettingsFrom({ recycle_bin_days: bad }).recycleBinDays, 90, String(bad));
    for (const bad of [5, 86401, '60', true])
      assert.equal(
        supportSettingsFrom({ support_missed_after_seconds: bad }).missedAfterSeconds,
        180,
        String(bad),
      );
    assert.equal(purgeTime(1000, { recycleBinDays: 90, missedAfterSeconds: 180 }), 1000 + 90 * 86_400_000);
  });
});
