import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../../src/domain/errors.ts';
import { parseJson } from '../../src/http/content.ts';
import { NATIVE_STATUS, toAppError } from '../../src/http/errors.ts';

test('toAppError keeps our errors and recognizes Fastify errors by code', () => {
  const nf = new NotFoundError('x_not_found', 'x');
  assert.equal(toAppError(nf), nf);
  const fst = (code: string, statusCode = 400) =>
    Object.assign(new Error('whatever the text'), { code, statusCode });
  assert.equal(toAppError(fst('FST_ERR_CTP_BODY_TOO_LARGE', 413)).kind, 'too_large');
  assert.equal(toAppError(fst('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).kind, 'unsupported_media_type');
  assert.equal(toAppError(fst('FST_ERR_CTP_EMPTY_JSON_BODY')).code, 'invalid_json');
  const v = toAppError(
    Object.assign(new Error('x'), {
      validation: [
        { instancePath: '', keyword: 'required', params: { missingProperty: 'text' }, message: 'x' },
      ],
      validationContext: 'body',
    }),
  );
  assert.ok(v instanceof ValidationError);
  assert.deepEqual(v.details, [{ path: 'body.text', problem: 'is required' }]);
  const internal = toAppError(new TypeError('secret internals'));
  assert.equal(internal.kind, 'internal');
  assert.doesNotMatch(internal.message, /secret/);
});

test('colliding writes are a 503 write_conflict (retry), not a 500; constraint errors are not', () => {
  const db = (code: string, errcode?: number) =>
    Object.assign(new Error('database text'), errcode === undefined ? { code } : { code, errcode });
  for (const err of [db('40P01'), db('40001'), db('ERR_SQLITE_ERROR', 5), db('ERR_SQLITE_ERROR', 6)]) {
    const a = toAppError(err);
    assert.equal(a.kind, 'unavailable');
    assert.equal(a.code, 'write_conflict');
    assert.equal(NATIVE_STATUS[a.kind], 503);
  }
  assert.equal(toAppError(db('ERR_SQLITE_ERROR', 19)).kind, 'internal');
  assert.equal(toAppError(db('23503')).kind, 'internal');
});

test('every error kind has a native status', () => {
  for (const [kind, status] of Object.entries(NATIVE_STATUS)) {
    assert.ok(status >= 400 && status < 600, kind);
  }
  assert.equal(NATIVE_STATUS[new ConflictError('c', 'c').kind], 409);
  assert.equal(NATIVE_STATUS[new AppError('forbidden', 'f', 'f').kind], 403);
});

test('parseJson keeps integers above 2^53 exactly and refuses prototype poisoning', () => {
  const parsed = parseJson('{"ids":[1255531000000036001, 7, 1.5], "n": 9007199254740993}') as {
    ids: unknown[];
    n: unknown;
  };
  assert.deepEqual(parsed.ids, ['1255531000000036001', 7, 1.5]);
  assert.equal(parsed.n, '9007199254740993');
  assert.equal(parseJson(''), undefined);
  assert.throws(() => parseJson('{"__proto__": {"x": 1}}'));
  assert.throws(() => parseJson('{"constructor": {"prototype": {"x": 1}}}'));
  assert.throws(() => parseJson('{bad'));
});
