import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  isJobId,
  isWindowOpen,
  makeWindow,
  nextWindowOpening,
  parseDate,
  parseWindowSpec,
  resolveDateRange,
  selectorKind,
} from '../../src/domain/deletion-jobs.ts';
import { AppError } from '../../src/domain/errors.ts';
import {
  checkEvents,
  checkWebhookUrl,
  MAX_DELIVERY_ATTEMPTS,
  retryDelayMs,
  signDelivery,
  WEBHOOK_EVENTS,
} from '../../src/domain/webhooks.ts';

const names = {
  conversationIds: 'body.conversationIds',
  customerId: 'body.cId',
  startDate: 'body.startDate',
  endDate: 'body.endDate',
};
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
  return 'no error';
};
const at = (iso: string) => Date.parse(iso);

test('job ids are cdj- and a lowercase UUID', () => {
  assert.ok(isJobId('cdj-e8c0d360-6b5b-50ab-bda1-ae54b18aaaaa'));
  for (const bad of [
    'cdj-E8C0D360-6B5B-50AB-BDA1-AE54B18AAAAA',
    'e8c0d360-6b5b-50ab-bda1-ae54b18aaaaa',
    'cdj-1',
    '',
  ])
    assert.ok(!isJobId(bad), bad);
});

test('exactly one selector, dates only with a customer', () => {
  assert.equal(selectorKind({ conversationIds: ['1'] }, names), 'conversations');
  assert.equal(selectorKind({ customerId: 'c', startDate: '2026-01-01' }, names), 'customer');
  assert.equal(
    codeOf(() => selectorKind({}, names)),
    'selector_required',
  );
  assert.equal(
    codeOf(() => selectorKind({ conversationIds: ['1'], customerId: 'c' }, names)),
    'ambiguous_selector',
  );
  assert.equal(
    codeOf(() => selectorKind({ conversationIds: ['1'], endDate: '2026-01-01' }, names)),
    'dates_need_customer',
  );
  assert.equal(
    codeOf(() => selectorKind({ conversationIds: [] }, names)),
    'invalid_request',
  );
  assert.equal(
    codeOf(() => selectorKind({ customerId: '  ' }, names)),
    'invalid_customer_id',
  );
});

test('dates are real calendar days as YYYY-MM-DD', () => {
  assert.equal(parseDate('2024-02-29', 'd'), at('2024-02-29T00:00:00Z'));
  for (const bad of [
    '2026-02-29',
    '2026-04-31',
    '2026-00-10',
    '2026-1-01',
    '2026-01-01T00:00Z',
    ' 2026-01-01',
    '1969-12-31',
  ])
    assert.equal(
      codeOf(() => parseDate(bad, 'd')),
      'invalid_date',
      bad,
    );
});

test('the range: defaults, inclusive end today, nothing in the future', () => {
  const ctx = {
    customerCreatedAt: at('2026-03-10T15:00:00Z'),
    orgCreatedAt: at('2026-01-01T00:00:00Z'),
    now: at('2026-06-30T23:59:59Z'),
  };
  assert.deepEqual(resolveDateRange({}, ctx, names), { startDate: '2026-03-10', endDate: '2026-06-30' });
  assert.deepEqual(resolveDateRange({}, { ...ctx, orgCreatedAt: at('2026-04-01T00:00:00Z') }, names), {
    startDate: '2026-04-01',
    endDate: '2026-06-30',
  });
  assert.deepEqual(resolveDateRange({ startDate: '2026-06-30', endDate: '2026-06-30' }, ctx, names), {
    startDate: '2026-06-30',
    endDate: '2026-06-30',
  });
  assert.equal(
    codeOf(() => resolveDateRange({ endDate: '2026-07-01' }, ctx, names)),
    'end_date_in_future',
  );
  assert.equal(
    codeOf(() => resolveDateRange({ startDate: '2026-07-01' }, ctx, names)),
    'invalid_date_range',
  );
  assert.equal(
    codeOf(() => resolveDateRange({ startDate: '2026-05-02', endDate: '2026-05-01' }, ctx, names)),
    'invalid_date_range',
  );
});

test('windows: open between start and end, across midnight and in a time zone', () => {
  const night = parseWindowSpec('00:00-06:00');
  assert.ok(isWindowOpen(night, at('2026-11-21T00:00:00Z')));
  assert.ok(isWindowOpen(night, at('2026-11-21T05:59:59Z')));
  assert.ok(!isWindowOpen(night, at('2026-11-21T06:00:00Z')));
  assert.equal(nextWindowOpening(night, at('2026-11-21T09:30:30Z')), at('2026-11-22T00:00:00Z'));
  assert.equal(nextWindowOpening(night, at('2026-11-21T03:00:00Z')), at('2026-11-21T03:00:00Z'));
  const late = makeWindow({ start: '22:00', end: '02:00', timeZone: 'Europe/Paris' });
  // Paris is UTC+1 in November: 22:00-02:00 there is 21:00-01:00 UTC.
  assert.ok(isWindowOpen(late, at('2026-11-21T21:00:00Z')));
  assert.ok(isWindowOpen(late, at('2026-11-22T00:59:00Z')));
  assert.ok(!isWindowOpen(late, at('2026-11-22T01:00:00Z')));
  assert.equal(nextWindowOpening(late, at('2026-11-21T12:00:00Z')), at('2026-11-21T21:00:00Z'));
  const always = parseWindowSpec('any');
  assert.ok(isWindowOpen(always, 0));
  assert.equal(nextWindowOpening(always, 123), 123);
  for (const bad of [
    { start: '06:00', end: '06:00' },
    { start: '24:00', end: '01:00' },
    { start: '01:00' },
    { anyTime: true, timeZone: 'UTC' },
    { start: '01:00', end: '02:00', timeZone: 'Nowhere/City' },
  ])
    assert.equal(
      codeOf(() => makeWindow(bad)),
      'invalid_window',
      JSON.stringify(bad),
    );
});

test('webhook signatures: HMAC-SHA256 of "<t>.<body>" with the secret, hex', () => {
  const body = '{"id":"1","type":"message.created"}';
  const mac = createHmac('sha256', 'whsec_test').update(`1700000000.${body}`).digest('hex');
  assert.equal(signDelivery('whsec_test', body, 1700000000), `t=1700000000,v1=${mac}`);
  assert.notEqual(
    signDelivery('whsec_other', body, 1700000000),
    signDelivery('whsec_test', body, 1700000000),
  );
});

test('retries: 10 s doubling to an hour, about 12 hours in all', () => {
  assert.deepEqual([1, 2, 3, 4].map(retryDelayMs), [10_000, 20_000, 40_000, 80_000]);
  assert.equal(retryDelayMs(30), 3_600_000);
  let total = 0;
  for (let n = 1; n < MAX_DELIVERY_ATTEMPTS; n++) total += retryDelayMs(n);
  assert.ok(total > 11 * 3_600_000 && total < 13 * 3_600_000, `${total / 3_600_000} h`);
});

test('webhook URLs and events', () => {
  assert.equal(checkWebhookUrl('https://example.com/h?x=1'), 'https://example.com/h?x=1');
  assert.equal(checkWebhookUrl('http://127.0.0.1:8080/h'), 'http://127.0.0.1:8080/h');
  for (const bad of [
    'example.com/h',
    'ftp://example.com',
    'https://a:b@example.com',
    'https://example.com/#x',
    'javascript:alert(1)',
  ])
    assert.equal(
      codeOf(() => checkWebhookUrl(bad)),
      'invalid_url',
      bad,
    );
  assert.deepEqual(checkEvents(['support.ended', 'support.ended', 'pin.created']), [
    'support.ended',
    'pin.created',
  ]);
  assert.equal(
    codeOf(() => checkEvents(['typing.started'])),
    'unknown_event',
  );
  assert.ok(WEBHOOK_EVENTS.includes('deletion_job.completed'));
  assert.ok(
    !WEBHOOK_EVENTS.some((e) => e.startsWith('token.') || e.startsWith('actor.') || e.startsWith('typing.')),
  );
});
