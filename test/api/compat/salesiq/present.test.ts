// The live-chat dialect's pure parts (seeds 000 and 001): status mapping, people, ids, channels.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codeForReason, SalesiqCode } from '../../../../src/compat/salesiq/errors.ts';
import {
  chatStatus,
  presentDeleteResult,
  presentOperator,
  SUPPORTED_OPERATIONS,
  visitorType,
} from '../../../../src/compat/salesiq/present.ts';
import { toChannel, toConversationIds, toDeleteInput } from '../../../../src/compat/salesiq/translate.ts';
import { ValidationError } from '../../../../src/domain/errors.ts';
import type { Actor } from '../../../../src/domain/model.ts';
import { fakeActor } from '../../../support/records.ts';

const actor = (over: Partial<Actor>): Actor =>
  fakeActor('5', 'user', 'operator', { name: 'Patricia', email: 'patricia@zylker.com', ...over });

describe('salesiq presenters', () => {
  test('chat_status for every state', () => {
    assert.deepEqual(chatStatus({ state: 'connected', attendedAt: 1 }), {
      status_code: 0,
      state: 2,
      label: 'Connected',
    });
    assert.deepEqual(chatStatus({ state: 'waiting', attendedAt: null }), {
      status_code: 0,
      state: 1,
      label: 'Waiting',
    });
    assert.deepEqual(chatStatus({ state: 'missed', attendedAt: null }), {
      status_code: 2,
      state: 3,
      label: 'Missed',
    });
    assert.deepEqual(chatStatus({ state: 'ended', attendedAt: 1 }), {
      status_code: 2,
      state: 4,
      label: 'Attended Online',
    });
    assert.deepEqual(chatStatus({ state: 'ended', attendedAt: null }), {
      status_code: 2,
      state: 4,
      label: 'Ended',
    });
  });

  test('operators, visitors, supported operations', () => {
    assert.deepEqual(presentOperator(actor({ id: '466756000000002001' })), {
      image_key: '0_466756000000002001',
      email: 'patricia@zylker.com',
      name: 'Patricia',
      is_bot: false,
      id: '466756000000002001',
    });
    assert.equal(presentOperator(actor({ kind: 'bot', email: null })).is_bot, true);
    assert.equal(presentOperator(actor({ email: null })).email, '');
    assert.equal(visitorType(actor({ kind: 'visitor', externalId: '$1' })), 'contact');
    assert.equal(visitorType(actor({ kind: 'visitor', externalId: null })), 'lead');
    assert.equal(SUPPORTED_OPERATIONS.length, 11);
  });

  test('delete results and their codes', () => {
    assert.deepEqual(
      presentDeleteResult([
        { id: '1', ok: true },
        { id: '2', ok: false, code: 'chat_not_closed', message: 'm' },
        { id: '3', ok: false, code: 'not_chat_owner', message: 'm' },
        { id: '4', ok: false, code: 'conversation_not_found', message: 'm' },
      ]),
      {
        deleted: ['1'],
        failed: [
          { id: '2', code: 1409, reason: 'chat_not_closed', message: 'm' },
          { id: '3', code: 1403, reason: 'not_chat_owner', message: 'm' },
          { id: '4', code: 1404, reason: 'conversation_not_found', message: 'm' },
        ],
      },
    );
    assert.equal(codeForReason('operator_role_required'), SalesiqCode.FORBIDDEN);
    assert.equal(codeForReason('channel_mismatch'), SalesiqCode.CONFLICT);
  });
});

describe('salesiq translation', () => {
  test('ids: exact decimal text for large numbers, safe numbers, strings', () => {
    assert.deepEqual(toConversationIds(['32289000000646055', 19000000033103, ' 42 ']), [
      '32289000000646055',
      '19000000033103',
      '42',
    ]);
    for (const bad of ['abc', '', 0, -1, 2 ** 60, '99999999999999999999'])
      assert.throws(
        () => toConversationIds(['1', bad]),
        (e: unknown) => e instanceof ValidationError && (e.details as any)[0].path === 'body.ids.1',
        String(bad),
      );
  });

  test('X-SIQ-Channel: the four channels, case-insensitive; anything else is refused', () => {
    assert.equal(toChannel(undefined), undefined);
    for (const c of ['website', 'ios', 'android', 'emailsignature']) assert.equal(toChannel(c), c);
    assert.equal(toChannel(' Website '), 'website');
    for (const bad of ['', 'fax', 'web site', ['ios', 'android']])
      assert.throws(
        () => toChannel(bad),
        (e: unknown) => e instanceof ValidationError && e.code === 'invalid_channel',
      );
    assert.deepEqual(toDeleteInput({ ids: [7] }, 'ios'), { ids: ['7'], channel: 'ios' });
  });
});
