import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sweepOldEvents } from '../../../src/services/events.ts';
import { call } from '../../support/app.ts';
import { makeOrg, orgWithGroup } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';
import { connectStream } from '../../support/stream.ts';

const t = useTestApp({}, { gateway: { pingMs: 100, gapFillMs: 50 }, listen: true });

async function setup() {
  const { o, members, others, id } = await orgWithGroup(t, ['Bob', 'Carol'], ['Olga']);
  return { o, bob: members[0]!, carol: members[1]!, outsider: others[0]!, id };
}

const isEvent = (name: string) => (f: any) => f.type === 'event' && f.event === name;

describe('authentication on upgrade', () => {
  test('a bearer header, the subprotocol and the query parameter authenticate; nothing else does', async () => {
    const { bob } = await setup();
    for (const via of ['header', 'protocol', 'query'] as const) {
      const s = await connectStream(t.base, { token: bob.token, via });
      const ready = await s.next((f) => f.type === 'ready');
      assert.equal(typeof ready.seq, 'number');
      if (via === 'protocol') assert.equal(s.ws.protocol, 'parley');
      await s.close();
    }
    await assert.rejects(connectStream(t.base, {}), (err: any) => err.statusCode === 401);
    await assert.rejects(connectStream(t.base, { token: 'pk_nope' }), (err: any) => err.statusCode === 401);
    const o = await makeOrg(t.ctx);
    const noRead = await o.token(o.owner.actor, ['conversations:read']);
    await assert.rejects(connectStream(t.base, { token: noRead }), (err: any) => err.statusCode === 403);
  });
});

describe('live events', () => {
  test('members get every event of the conversation; outsiders get none; each event once', async () => {
    const { o, bob, outsider, id } = await setup();
    const b = await connectStream(t.base, { token: bob.token });
    const x = await connectStream(t.base, { token: outsider.token });
    await b.next((f) => f.type === 'ready');
    const sent = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'hello all',
    });
    const ev = await b.next(isEvent('message.created'));
    assert.equal(ev.data.message.id, sent.body.id);
    assert.equal(ev.data.message.text, 'hello all');
    assert.equal(ev.conversation_id, id);
    assert.ok(ev.seq > 0);
    await call(t.app, o.owner.token, 'PATCH', `/v1/conversations/${id}/messages/${sent.body.id}`, {
      text: 'edited',
    });
    assert.equal((await b.next(isEvent('message.edited'))).data.message.text, 'edited');
    await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${id}/pin`, { message_id: sent.body.id });
    await b.next(isEvent('pin.created'));
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/mute`);
    assert.equal((await b.next(isEvent('member.muted'))).data.me.muted, true);
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`);
    assert.equal((await b.next(isEvent('member.read'))).data.me.unread_count, 0);
    await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/messages/${sent.body.id}`);
    await b.next(isEvent('message.deleted'));
    await b.next(isEvent('pin.deleted'));
    const seqs = b.seen((f) => f.type === 'event').map((f) => f.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((p, q) => p - q),
      'in sequence order',
    );
    assert.equal(new Set(seqs).size, seqs.length, 'no duplicates');
    // A barrier: a message the outsider does get, sent after all of the above. Events reach a
    // socket in order, so whatever the outsider was to get of the group came before it.
    const barrier = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'barrier',
      member_ids: [outsider.actor.id],
    });
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${barrier.body.id}/messages`, {
      text: 'barrier',
    });
    await x.next((f) => isEvent('message.created')(f) && f.conversation_id === barrier.body.id);
    assert.deepEqual(
      x.seen((f) => f.type === 'event' && f.conversation_id !== barrier.body.id),
      [],
      'the outsider got nothing',
    );
    await b.close();
    await x.close();
  });

  test('members joining and leaving, hide and restore reach the right people', async () => {
    const { o, bob, carol, id } = await setup();
    const b = await connectStream(t.base, { token: bob.token });
    const c = await connectStream(t.base, { token: carol.token });
    await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/members/${carol.actor.id}`);
    assert.equal((await b.next(isEvent('member.left'))).data.actor_id, carol.actor.id);
    assert.equal(
      (await c.next(isEvent('member.left'))).data.actor_id,
      carol.actor.id,
      'the removed member hears it too',
    );
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'after carol left',
    });
    await b.next(isEvent('message.created'));
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/hide`);
    await b.next(isEvent('conversation.hidden'));
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/members`, {
      actor_ids: [carol.actor.id],
    });
    // Carol's rejoining is the barrier: events reach a socket in order, so a message she was
    // (wrongly) sent while she was out would have come before it.
    await c.next(isEvent('member.joined'));
    assert.equal(c.seen(isEvent('message.created')).length, 0, 'a former member gets no messages');
    await b.close();
    await c.close();
  });
});

describe('catch-up', () => {
  test('reconnecting with since gets exactly what was missed, in order, then live events', async () => {
    const { o, bob, id } = await setup();
    const first = await connectStream(t.base, { token: bob.token });
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'm0' });
    const seen = await first.next(isEvent('message.created'));
    await first.close();
    const missed: string[] = [];
    for (let i = 1; i <= 5; i++) {
      missed.push(
        (await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: `m${i}` })).body
          .id,
      );
    }
    // events for other people in between do not reach bob
    const other = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'private',
    });
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${other.body.id}/messages`, {
      text: 'not for bob',
    });
    const again = await connectStream(t.base, { token: bob.token, since: seen.seq });
    const caught = [];
    for (let i = 0; i < 5; i++) caught.push(await again.next(isEvent('message.created')));
    assert.deepEqual(
      caught.map((f) => f.data.message.id),
      missed,
    );
    const ready = await again.next((f) => f.type === 'ready');
    assert.ok(ready.seq >= caught.at(-1).seq);
    const live = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'live',
    });
    assert.equal((await again.next(isEvent('message.created'))).data.message.id, live.body.id);
    const ids = again.seen(isEvent('message.created')).map((f) => f.data.message.id);
    assert.equal(new Set(ids).size, ids.length, 'nothing twice');
    assert.ok(!again.seen((f) => f.type === 'event').some((f) => f.data?.message?.text === 'not for bob'));
    await again.close();
  });

  test('too old a since answers resync_required; a future one invalid_since', async () => {
    const { o, bob, id } = await setup();
    const s = await connectStream(t.base, { token: bob.token });
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'old' });
    const ev = await s.next(isEvent('message.created'));
    await s.close();
    const future = await connectStream(t.base, { token: bob.token, since: ev.seq + 1000 });
    assert.equal((await future.next((f) => f.type === 'error')).code, 'invalid_since');
    assert.equal((await future.closed).code, 4400);
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'newer' });
    t.clock.advance(4 * 24 * 3600 * 1000);
    await sweepOldEvents(t.ctx);
    const stale = await connectStream(t.base, { token: bob.token, since: ev.seq - 1 });
    assert.equal((await stale.next((f) => f.type === 'error')).code, 'resync_required');
    assert.equal((await stale.closed).code, 4009);
  });
});

describe('retention', () => {
  test('the sweep drops the events older than three days and keeps the younger ones', async () => {
    const { o, bob, id } = await setup();
    const day = 24 * 3600 * 1000;
    const s = await connectStream(t.base, { token: bob.token });
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'four days old' });
    const old = await s.next(isEvent('message.created'));
    t.clock.advance(2 * day);
    const young = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'two days old',
    });
    await s.next(isEvent('message.created'));
    await s.close();
    t.clock.advance(2 * day);
    assert.ok((await sweepOldEvents(t.ctx)) >= 1);
    // From the old event on, the log is whole: the younger event is still there.
    const after = await connectStream(t.base, { token: bob.token, since: old.seq });
    assert.equal((await after.next(isEvent('message.created'))).data.message.id, young.body.id);
    await after.close();
    // Before it, events were dropped: the client must resync.
    const stale = await connectStream(t.base, { token: bob.token, since: old.seq - 1 });
    assert.equal((await stale.next((f) => f.type === 'error')).code, 'resync_required');
    await stale.closed;
    assert.equal(await sweepOldEvents(t.ctx), 0, 'nothing older than the retention is left');
  });
});

describe('frames from the client', () => {
  test('send with a client id is acknowledged with the stored message; a retry returns the same one', async () => {
    const { o, bob, id } = await setup();
    const b = await connectStream(t.base, { token: bob.token });
    const owner = await connectStream(t.base, { token: o.owner.token });
    b.send({ type: 'send', conversation_id: id, text: 'over the socket', client_id: 'ws-1' });
    const ack = await b.next((f) => f.type === 'ack');
    assert.equal(ack.client_id, 'ws-1');
    assert.equal(ack.created, true);
    assert.equal(ack.message.text, 'over the socket');
    assert.equal((await owner.next(isEvent('message.created'))).data.message.id, ack.message.id);
    b.send({ type: 'send', conversation_id: id, text: 'over the socket', client_id: 'ws-1' });
    const retry = await b.next((f) => f.type === 'ack');
    assert.equal(retry.message.id, ack.message.id);
    assert.equal(retry.created, false);
    const history = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/messages`);
    assert.equal(history.body.items.filter((m: { client_id: string }) => m.client_id === 'ws-1').length, 1);
    for (const [frame, code] of [
      [{ type: 'send', conversation_id: id, text: 'no client id' }, 'invalid_request'],
      [{ type: 'send', conversation_id: 'x', text: 't', client_id: 'a' }, 'invalid_request'],
      [{ type: 'send', conversation_id: '123456789', text: 't', client_id: 'b' }, 'conversation_not_found'],
      [{ type: 'dance' }, 'unknown_frame'],
    ] as const) {
      b.send(frame);
      assert.equal((await b.next((f) => f.type === 'error')).code, code, JSON.stringify(frame));
    }
    b.ws.send('not json');
    assert.equal((await b.next((f) => f.type === 'error')).code, 'invalid_frame');
    await b.close();
    await owner.close();
  });

  test('typing reaches the other members live and is not stored', async () => {
    const { o, bob, id } = await setup();
    const b = await connectStream(t.base, { token: bob.token });
    const owner = await connectStream(t.base, { token: o.owner.token });
    await owner.next((f) => f.type === 'ready');
    b.send({ type: 'typing', conversation_id: id });
    const typing = await owner.next(isEvent('typing.started'));
    assert.equal(typing.data.actor_id, bob.actor.id);
    assert.equal(typing.seq, 0);
    const stored = await t.ctx.db
      .selectFrom('event')
      .select('type')
      .where('type', '=', 'typing.started')
      .execute();
    assert.equal(stored.length, 0);
    await b.close();
    await owner.close();
  });
});

describe('socket lifecycle', () => {
  test('revoking a token closes the sockets opened with it, and only those', async () => {
    const { o, bob } = await setup();
    const made = await call(t.app, o.owner.token, 'POST', '/v1/tokens', {
      name: 'ws',
      scopes: ['messages:read'],
      actor_id: bob.actor.id,
    });
    const doomed = await connectStream(t.base, { token: made.body.token });
    const kept = await connectStream(t.base, { token: bob.token });
    await doomed.next((f) => f.type === 'ready');
    await call(t.app, o.owner.token, 'DELETE', `/v1/tokens/${made.body.record.id}`);
    assert.equal((await doomed.closed).code, 4001);
    assert.equal(kept.ws.readyState, kept.ws.OPEN);
    await kept.close();
  });

  test('a socket that stops answering pings is dropped', async () => {
    const { bob } = await setup();
    const s = await connectStream(t.base, { token: bob.token });
    await s.next((f) => f.type === 'ready');
    const before = t.gateway.socketCount;
    // Stop reading: pongs are never sent back.
    (s.ws as any)._socket.pause();
    const deadline = Date.now() + 3000;
    while (t.gateway.socketCount >= before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(t.gateway.socketCount < before, 'the dead socket was dropped');
    s.ws.terminate();
  });
});
