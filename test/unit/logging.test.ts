import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogBudget, loggerOptions, redactUrl } from '../../src/http/logging.ts';

test('redactUrl hides the values of secret query parameters and keeps everything else', () => {
  assert.equal(redactUrl('/v1/stream'), '/v1/stream');
  assert.equal(redactUrl('/v1/stream?since=4'), '/v1/stream?since=4');
  assert.equal(
    redactUrl('/v1/stream?since=4&access_token=pk_secret&x=1'),
    '/v1/stream?since=4&access_token=[redacted]&x=1',
  );
  assert.equal(
    redactUrl('/a?ACCESS_TOKEN=pk_1&Token=t&api_key=k'),
    '/a?ACCESS_TOKEN=[redacted]&Token=[redacted]&api_key=[redacted]',
  );
  // Encoded names, repeated and empty parameters, a name without a value.
  assert.equal(
    redactUrl('/a?access%5Ftoken=pk_1&access_token=&access_token'),
    '/a?access%5Ftoken=[redacted]&access_token=[redacted]&access_token=[redacted]',
  );
  assert.equal(redactUrl('/a?%E0%A4%A=1&secret=s'), '/a?%E0%A4%A=1&secret=[redacted]');
  assert.ok(!redactUrl('/a?password=hunter2#frag').includes('hunter2'));
});

test('LogBudget allows a number of lines a minute and counts the ones it left out', () => {
  let now = 1_000_000;
  const budget = new LogBudget(3, () => now);
  const takes = Array.from({ length: 5 }, () => budget.take());
  assert.deepEqual(
    takes.map((t) => t.ok),
    [true, true, true, false, false],
  );
  now += 60_000;
  assert.deepEqual(budget.take(), { ok: true, suppressed: 2 });
  assert.deepEqual(budget.take(), { ok: true, suppressed: 0 });
});

test('a url or path a log line names itself is redacted too (a plugin logging the raw URL)', () => {
  const line = loggerOptions.formatters.log({ path: '/v1/x?access_token=pk_1', url: '/a?sig=s', n: 1 });
  assert.deepEqual(line, { path: '/v1/x?access_token=[redacted]', url: '/a?sig=[redacted]', n: 1 });
  const plain = { msg: 'no url' };
  assert.equal(loggerOptions.formatters.log(plain), plain);
});
