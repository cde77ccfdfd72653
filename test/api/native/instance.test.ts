import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { runJobsUntilIdle } from '../../../src/jobs/runner.ts';
import { issueInstanceToken } from '../../../src/services/instance-admin.ts';
import { erasureSettled } from '../../../src/services/recycle-bin.ts';
import { buildTestApp, call, type TestApp } from '../../support/app.ts';
import { testDialect } from '../../support/db.ts';
import { makeOrg } from '../../support/factories.ts';
import { connectStream } from '../../support/stream.ts';

/**
 * Org administration over HTTP (/v1/instance): the instance-admin credential, creating, listing,
 * suspending and deleting orgs, and an org's owner token. Every refused request changes nothing.
 */

let t: TestApp;
let base: string;
let admin: string;
before(async () => {
  t = await buildTestApp({ DELETION_CHUNK_SIZE: '2' }, { gateway: { pingMs: 1000 } });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  admin = (await issueInstanceToken(t.ctx, { name: 'test' })).token;
});
after(async () => t.close());

const rand = () => randomBytes(4).toString('hex');

async function newOrg(slug = `i-${rand()}`) {
  const res = await call(t.app, admin, 'POST', '/v1/instance/orgs', {
    slug,
    name: `Org ${slug}`,
    owner_email: `boss@${slug}.test`,
    owner_name: 'Boss',
  });
  assert.equal(res.status, 201, res.raw);
  const tok = await call(t.app, admin, 'POST', `/v1/instance/orgs/${res.body.id}/owner-token`, {});
  assert.equal(tok.status, 201, tok.raw);
  return { org: res.body, token: tok.body.token as string, owner: tok.body.owner };
}

/** Every row of every table that belongs to the org (its org_id), and the org row itself. */
async function rowsOf(orgId: string): Promise<Record<string, number>> {
  const db = t.ctx.db;
  const tables =
    testDialect === 'postgres'
      ? (
          await sql<{ table_name: string }>`select table_name from information_schema.columns
            where column_name = 'org_id' and table_schema = current_schema()`.execute(db)
        ).rows.map((r) => r.table_name)
      : (
          await sql<{ name: string }>`select m.name from sqlite_master m, pragma_table_info(m.name) p
            where m.type = 'table' and p.name = 'org_id'`.execute(db)
        ).rows.map((r) => r.name);
  assert.ok(tables.length >= 15, `tables with org_id: ${tables.join(', ')}`);
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = await sql<{
      n: number;
    }>`select count(*) as n from ${sql.table(table)} where org_id = ${orgId}`.execute(db);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) counts[table] = n;
  }
  const org = await sql<{ n: number }>`select count(*) as n from org where id = ${orgId}`.execute(db);
  if (Number(org.rows[0]?.n) > 0) counts.org = 1;
  return counts;
}

describe('the instance-admin credential', () => {
  test('org tokens are refused on instance routes, instance tokens on org routes', async () => {
    const o = await makeOrg(t.ctx);
    const onInstance = await call(t.app, o.owner.token, 'GET', '/v1/instance/orgs');
    assert.equal(onInstance.status, 401);
    assert.equal(onInstance.body.error.code, 'invalid_token');
    assert.match(onInstance.body.error.message, /instance-admin token/);
    const onOrg = await call(t.app, admin, 'GET', '/v1/conversations');
    assert.equal(onOrg.status, 401);
    assert.match(onOrg.body.error.message, /only on \/v1\/instance/);
    assert.equal((await call(t.app, null, 'GET', '/v1/instance/orgs')).status, 401);
    assert.equal((await call(t.app, 'pia_forged', 'GET', '/v1/instance/orgs')).status, 401);
  });

  test('a revoked or expired instance token is refused', async () => {
    const { revokeInstanceAdminToken } = await import('../../../src/services/instance-admin.ts');
    const issued = await issueInstanceToken(t.ctx, { name: 'gone' });
    assert.equal((await call(t.app, issued.token, 'GET', '/v1/instance/orgs')).status, 200);
    await revokeInstanceAdminToken(t.ctx, issued.record.id);
    assert.equal((await call(t.app, issued.token, 'GET', '/v1/instance/orgs')).status, 401);
    const soon = await issueInstanceToken(t.ctx, { name: 'soon', expiresAt: t.clock.now() + 1000 });
    t.clock.advance(1001);
    assert.equal((await call(t.app, soon.token, 'GET', '/v1/instance/orgs')).status, 401);
    await assert.rejects(revokeInstanceAdminToken(t.ctx, issued.record.id), /No live instance-admin token/);
  });
});

describe('creating and listing orgs', () => {
  test('create, then issue the first owner token, which works on the org routes', async () => {
    const { org, token, owner } = await newOrg();
    assert.equal(org.state, 'active');
    assert.equal(org.owners.length, 1);
    assert.equal(org.deletion_job, null);
    const me = await call(t.app, token, 'GET', '/v1/me');
    assert.equal(me.status, 200, me.raw);
    assert.equal(me.body.id ?? me.body.actor?.id, owner.id);
    const scoped = await call(t.app, admin, 'POST', `/v1/instance/orgs/${org.id}/owner-token`, {
      name: 'reader',
      scopes: ['ZohoCliq.Chats.READ', 'People.Read'],
    });
    assert.equal(scoped.status, 201, scoped.raw);
    assert.deepEqual(scoped.body.record.scopes.sort(), ['conversations:read', 'people:read']);
  });

  test('bad input is a 400 naming the field, a taken slug a 409, and nothing is created', async () => {
    const before = await call(t.app, admin, 'GET', '/v1/instance/orgs?limit=100');
    const slug = `i-${rand()}`;
    await newOrg(slug);
    for (const [body, code, path] of [
      [{ slug: 'Bad Slug', owner_email: 'a@b.test' }, 'invalid_slug', 'slug'],
      [{ slug: `i-${rand()}` }, 'invalid_request', 'body.owner_email'],
      [{ slug: `i-${rand()}`, owner_email: 'not-an-email' }, 'invalid_request', 'body.owner_email'],
      [{ slug: `i-${rand()}`, owner_email: 'a@b.test', extra: 1 }, 'invalid_request', undefined],
      [{ slug: 7, owner_email: 'a@b.test' }, 'invalid_request', 'body.slug'],
    ] as const) {
      const res = await call(t.app, admin, 'POST', '/v1/instance/orgs', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.raw}`);
      assert.equal(res.body.error.code, code, res.raw);
      if (path) assert.ok(JSON.stringify(res.body.error.details).includes(path), res.raw);
    }
    const taken = await call(t.app, admin, 'POST', '/v1/instance/orgs', { slug, owner_email: 'x@y.test' });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, 'slug_taken');
    const afterList = await call(t.app, admin, 'GET', '/v1/instance/orgs?limit=100');
    assert.equal(afterList.body.items.length, before.body.items.length + 1);
  });

  test('owner-token: unknown scopes and unknown orgs are refused', async () => {
    const { org } = await newOrg();
    const bad = await call(t.app, admin, 'POST', `/v1/instance/orgs/${org.id}/owner-token`, {
      scopes: ['messages:read', 'everything'],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_scopes');
    assert.deepEqual(bad.body.error.details, [{ path: 'body.scopes[1]', problem: 'is not a scope name' }]);
    const missing = await call(t.app, admin, 'POST', '/v1/instance/orgs/999999999/owner-token', {});
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'org_not_found');
    assert.equal((await call(t.app, admin, 'GET', '/v1/instance/orgs/abc')).status, 400);
  });

  test('the list pages in id order and filters by state', async () => {
    await newOrg();
    await newOrg();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await call(
        t.app,
        admin,
        'GET',
        `/v1/instance/orgs?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(res.status, 200, res.raw);
      seen.push(...res.body.items.map((o: { id: string }) => o.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
    );
    assert.equal(new Set(seen).size, seen.length);
    const bad = await call(t.app, admin, 'GET', '/v1/instance/orgs?cursor=nope');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_cursor');
    assert.equal((await call(t.app, admin, 'GET', '/v1/instance/orgs?state=gone')).status, 400);
  });
});

describe('suspending an org', () => {
  test('its tokens are refused with org_suspended, its sockets close, and unsuspending restores them', async () => {
    const { org, token } = await newOrg();
    const other = await newOrg();
    const stream = await connectStream(base, { token });
    const res = await call(t.app, admin, 'POST', `/v1/instance/orgs/${org.id}/suspend`);
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.body.state, 'suspended');
    const closed = await stream.closed;
    assert.equal(closed.code, 4001);
    assert.equal(closed.reason, 'org suspended');
    const refused = await call(t.app, token, 'GET', '/v1/conversations');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'org_suspended');
    await assert.rejects(connectStream(base, { token }), /upgrade refused: 403/);
    // Another org is untouched.
    assert.equal((await call(t.app, other.token, 'GET', '/v1/conversations')).status, 200);
    // Suspending again changes nothing; no owner token for a suspended org.
    assert.equal(
      (await call(t.app, admin, 'POST', `/v1/instance/orgs/${org.id}/suspend`)).body.state,
      'suspended',
    );
    const tok = await call(t.app, admin, 'POST', `/v1/instance/orgs/${org.id}/owner-token`, {});
    assert.equal(tok.status, 409);
    assert.equal(tok.body.error.code, 'org_not_active');
    const listed = await call(t.app, admin, 'GET', '/v1/instance/orgs?state=suspended&limit=100');
    assert.ok(listed.body.items.some((o: { id: string }) => o.id === org.id));
    const back = await call(t.app, admin, 'POST', `/v1/instance/orgs/${org.id}/unsuspend`);
    assert.equal(back.body.state, 'active');
    assert.equal((await call(t.app, token, 'GET', '/v1/conversations')).status, 200);
  });
});

describe('deleting an org', () => {
  test('goes through a deletion job; afterwards nothing of the org remains', async () => {
    const marker = `MRK${randomBytes(8).toString('hex')}`;
    const { org, token, owner } = await newOrg();
    const keep = await newOrg();
    const people = [];
    for (const name of ['Ann', 'Ben']) {
      const r = await call(t.app, token, 'POST', '/v1/actors', {
        kind: 'user',
        role: 'member',
        name,
        email: `${name}@x.test`,
      });
      assert.equal(r.status, 201, r.raw);
      people.push(r.body);
    }
    for (let i = 0; i < 3; i++) {
      const conv = await call(t.app, token, 'POST', '/v1/conversations', {
        kind: 'group',
        title: `g${i}`,
        member_ids: people.map((p) => p.id),
      });
      assert.equal(conv.status, 201, conv.raw);
      const m = await call(t.app, token, 'POST', `/v1/conversations/${conv.body.id}/messages`, {
        text: `${marker} ${i}`,
      });
      assert.equal(m.status, 201, m.raw);
    }
    await call(t.app, token, 'POST', '/v1/webhooks', {
      url: 'https://example.com/hook',
      events: ['message.created'],
    });
    await call(t.app, token, 'POST', '/v1/apps', { name: 'app' });
    await call(t.app, token, 'POST', '/v1/departments', { name: 'Sales' });
    const keptMessage = await call(t.app, keep.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'kept',
      member_ids: [],
    });
    assert.equal(keptMessage.status, 201, keptMessage.raw);
    assert.ok(Object.keys(await rowsOf(org.id)).length > 5);
    const keptRows = await rowsOf(keep.org.id);

    const del = await call(t.app, admin, 'DELETE', `/v1/instance/orgs/${org.id}`);
    assert.equal(del.status, 202, del.raw);
    assert.equal(del.body.org.state, 'deleting');
    assert.equal(del.body.job.selector.kind, 'org');
    assert.equal(del.body.job.status, 'queued');
    // Refused at once, and nothing else may change its state.
    const refused = await call(t.app, token, 'GET', '/v1/conversations');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'org_deleted');
    for (const action of ['suspend', 'unsuspend']) {
      const r = await call(t.app, admin, 'POST', `/v1/instance/orgs/${org.id}/${action}`);
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'org_deleting');
    }
    // Asking again answers the same job.
    const again = await call(t.app, admin, 'DELETE', `/v1/instance/orgs/${org.id}`);
    assert.equal(again.body.job.id, del.body.job.id);
    const during = await call(t.app, admin, 'GET', `/v1/instance/orgs/${org.id}`);
    assert.equal(during.body.deletion_job.id, del.body.job.id);
    assert.equal(during.body.owners[0].id, owner.id);

    await runJobsUntilIdle(t.ctx);
    await erasureSettled(t.ctx);
    assert.deepEqual(await rowsOf(org.id), {});
    const gone = await call(t.app, admin, 'GET', `/v1/instance/orgs/${org.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'org_not_found');
    assert.equal((await call(t.app, token, 'GET', '/v1/conversations')).status, 401);
    assert.deepEqual(await rowsOf(keep.org.id), keptRows, 'the other org is untouched');
    assert.equal((await call(t.app, keep.token, 'GET', '/v1/conversations')).status, 200);
    const unknown = await call(t.app, admin, 'DELETE', `/v1/instance/orgs/${org.id}`);
    assert.equal(unknown.status, 404);
  });
});
