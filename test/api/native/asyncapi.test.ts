import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { EventType } from '../../../src/domain/events.ts';
import { asyncApiDocument } from '../../../src/realtime/asyncapi.ts';
import { call } from '../../support/app.ts';
import { orgWithGroup } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';
import { connectStream } from '../../support/stream.ts';

const t = useTestApp({}, { gateway: { pingMs: 100, gapFillMs: 50 }, listen: true });

test('/asyncapi.json is a valid AsyncAPI 3 document (@asyncapi/parser: no error or warning)', async () => {
  const res = await call(t.app, null, 'GET', '/asyncapi.json');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, JSON.parse(JSON.stringify(asyncApiDocument)));
  const { document, diagnostics } = await new Parser().parse(res.raw);
  const problems = diagnostics.filter((d) => d.severity <= 1);
  assert.deepEqual(
    problems.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`),
    [],
  );
  assert.ok(document);
  assert.equal(document.version(), '3.0.0');
  assert.equal(document.channels().get('stream')?.address(), '/v1/stream');
  assert.deepEqual(res.body.components.schemas.EventFrame.properties.event.enum, [...EventType]);
});

test("the frames the server really sends match the document's schemas", async () => {
  const ajv = new Ajv({ strict: false });
  addFormats.default(ajv);
  ajv.addSchema({ components: asyncApiDocument.components }, 'doc');
  const check = (name: string, frame: unknown) => {
    const validate = ajv.getSchema(`doc#/components/schemas/${name}`)!;
    assert.ok(validate(frame), `${name}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(frame)}`);
  };
  const { o, bob, id } = await orgWithGroup(t);
  const s = await connectStream(t.base, { token: bob.token });
  check('ReadyFrame', await s.next((f) => f.type === 'ready'));
  await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'hi' });
  check('EventFrame', await s.next((f) => f.type === 'event'));
  s.send({ type: 'send', conversation_id: id, text: 'back', client_id: 'c-1' });
  check('AckFrame', await s.next((f) => f.type === 'ack'));
  s.send({ type: 'ping' });
  check('PongFrame', await s.next((f) => f.type === 'pong'));
  s.send({ type: 'bogus' });
  check('ErrorFrame', await s.next((f) => f.type === 'error'));
  await s.close();
});
