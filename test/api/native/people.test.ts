import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call } from '../../support/app.ts';
import { makeOrg } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp();

describe('GET /v1/me', () => {
  test('answers the actor and scopes of the token', async () => {
    const o = await makeOrg(t.ctx);
    const res = await call(t.app, o.owner.token, 'GET', '/v1/me');
    assert.equal(res.status, 200);
    assert.equal(res.body.actor.id, o.owner.actor.id);
    assert.equal(res.body.actor.role, 'owner');
    assert.equal(res.body.org_id, o.org.id);
    assert.ok(res.body.scopes.includes('admin'));
  });
});

describe('actors', () => {
  test('admins create users, visitors and bots; everyone can read', async () => {
    const o = await makeOrg(t.ctx);
    const member = await o.user();
    const user = await call(t.app, o.owner.token, 'POST', '/v1/actors', {
      kind: 'user',
      role: 'operator',
      name: 'Op',
      email: 'op@x.test',
    });
    assert.equal(user.status, 201);
    assert.equal(user.body.role, 'operator');
    const visitor = await call(t.app, o.owner.token, 'POST', '/v1/actors', {
      kind: 'visitor',
      name: 'Vera',
      channel: 'ios',
      ip: '203.0.113.7',
      country: 'NL',
      phone: '+31 6 1234',
      external_id: 'app-user-1',
    });
    assert.equal(visitor.status, 201);
    assert.equal(visitor.body.role, null);
    assert.equal(visitor.body.channel, 'ios');
    const bot = await call(t.app, o.owner.token, 'POST', '/v1/actors', { kind: 'bot', name: 'Zia' });
    assert.equal(bot.status, 201);
    const read = await call(t.app, member.token, 'GET', `/v1/actors/${visitor.body.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.external_id, 'app-user-1');
    const visitors = await call(t.app, member.token, 'GET', '/v1/actors?kind=visitor');
    assert.deepEqual(
      visitors.body.items.map((a: { id: string }) => a.id),
      [visitor.body.id],
    );
    const page1 = await call(t.app, member.token, 'GET', '/v1/actors?limit=2');
    const page2 = await call(
      t.app,
      member.token,
      'GET',
      `/v1/actors?limit=2&cursor=${page1.body.next_cursor}`,
    );
    const page3 = await call(
      t.app,
      member.token,
      'GET',
      `/v1/actors?limit=2&cursor=${page2.body.next_cursor}`,
    );
    assert.equal(
      new Set([...page1.body.items, ...page2.body.items, ...page3.body.items].map((a) => a.id)).size,
      5,
    );
  });

  test('refusals: members cannot manage, duplicates, bad shapes, other org', async () => {
    const o = await makeOrg(t.ctx);
    const other = await makeOrg(t.ctx);
    const member = await o.user();
    const denied = await call(t.app, member.token, 'POST', '/v1/actors', { kind: 'bot', name: 'x' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'admin_role_required');
    await call(t.app, o.owner.token, 'POST', '/v1/actors', { kind: 'bot', name: 'a', external_id: 'dup' });
    const dup = await call(t.app, o.owner.token, 'POST', '/v1/actors', {
      kind: 'bot',
      name: 'b',
      external_id: 'dup',
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'external_id_taken');
    const sameInOther = await call(t.app, other.owner.token, 'POST', '/v1/actors', {
      kind: 'bot',
      name: 'b',
      external_id: 'dup',
    });
    assert.equal(sameInOther.status, 201);
    for (const body of [
      { kind: 'user', name: 'no role' },
      { kind: 'bot', name: 'x', role: 'admin' },
      { kind: 'user', role: 'member', name: 'x', channel: 'website' },
      { kind: 'robot', name: 'x' },
      { kind: 'bot' },
      { kind: 'bot', name: '' },
      { kind: 'user', role: 'member', name: 'x', email: 'not-an-email' },
      { kind: 'visitor', name: 'x', ip: '999.1.1.1' },
      { kind: 'visitor', name: 'x', channel: 'fax' },
    ]) {
      const res = await call(t.app, o.owner.token, 'POST', '/v1/actors', body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await call(t.app, o.owner.token, 'GET', `/v1/actors/${other.owner.actor.id}`)).status, 404);
    assert.equal(
      (await call(t.app, o.owner.token, 'PATCH', `/v1/actors/${other.owner.actor.id}`, { name: 'x' })).status,
      404,
    );
  });

  test('update and deactivate: the token of a deactivated actor stops working', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const upd = await call(t.app, o.owner.token, 'PATCH', `/v1/actors/${bob.actor.id}`, {
      name: 'Robert',
      role: 'admin',
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.name, 'Robert');
    assert.equal(upd.body.role, 'admin');
    assert.equal((await call(t.app, o.owner.token, 'PATCH', `/v1/actors/${bob.actor.id}`, {})).status, 400);
    assert.equal((await call(t.app, bob.token, 'GET', '/v1/me')).status, 200);
    const off = await call(t.app, o.owner.token, 'POST', `/v1/actors/${bob.actor.id}/deactivate`);
    assert.equal(off.status, 200);
    assert.equal(off.body.active, false);
    const after = await call(t.app, bob.token, 'GET', '/v1/me');
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'invalid_token');
    const owner = await call(t.app, o.owner.token, 'POST', `/v1/actors/${o.owner.actor.id}/deactivate`);
    assert.equal(owner.status, 409);
    const listed = await call(t.app, o.owner.token, 'GET', '/v1/actors');
    assert.ok(!listed.body.items.some((a: { id: string }) => a.id === bob.actor.id));
    const all = await call(t.app, o.owner.token, 'GET', '/v1/actors?include_inactive=true');
    assert.ok(all.body.items.some((a: { id: string }) => a.id === bob.actor.id));
  });
});

describe('tokens', () => {
  test('issue, use, list and revoke; never wider than the issuer', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const made = await call(t.app, o.owner.token, 'POST', '/v1/tokens', {
      name: 'bob-reader',
      scopes: ['conversations:read'],
      actor_id: bob.actor.id,
    });
    assert.equal(made.status, 201);
    assert.match(made.body.token, /^pk_/);
    assert.equal(made.body.record.actor_id, bob.actor.id);
    assert.equal((await call(t.app, made.body.token, 'GET', '/v1/conversations')).status, 200);
    const noScope = await call(t.app, made.body.token, 'GET', '/v1/actors');
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body.error.code, 'insufficient_scope');
    const list = await call(t.app, o.owner.token, 'GET', '/v1/tokens');
    assert.ok(list.body.items.some((x: { id: string }) => x.id === made.body.record.id));
    assert.ok(!JSON.stringify(list.body).includes(made.body.token), 'secrets are never listed');
    assert.equal(
      (await call(t.app, o.owner.token, 'DELETE', `/v1/tokens/${made.body.record.id}`)).status,
      204,
    );
    const revoked = await call(t.app, made.body.token, 'GET', '/v1/conversations');
    assert.equal(revoked.status, 401);
    const narrow = await o.token(o.owner.actor, ['admin']);
    const wider = await call(t.app, narrow, 'POST', '/v1/tokens', { name: 'x', scopes: ['messages:write'] });
    assert.equal(wider.status, 403);
    assert.equal(wider.body.error.code, 'scope_not_held');
    for (const body of [
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['root'] },
      { scopes: ['admin'] },
      { name: 'x', scopes: ['admin'], expires_at: 1 },
    ]) {
      assert.equal(
        (await call(t.app, o.owner.token, 'POST', '/v1/tokens', body)).status,
        400,
        JSON.stringify(body),
      );
    }
  });

  test('an expired token answers 401', async () => {
    const o = await makeOrg(t.ctx);
    const made = await call(t.app, o.owner.token, 'POST', '/v1/tokens', {
      name: 'short',
      scopes: ['people:read'],
      expires_at: t.clock.now() + 1000,
    });
    assert.equal((await call(t.app, made.body.token, 'GET', '/v1/me')).status, 200);
    t.clock.advance(1001);
    assert.equal((await call(t.app, made.body.token, 'GET', '/v1/me')).status, 401);
  });
});
