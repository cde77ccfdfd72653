import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, call, type TestApp, visitorCaller } from '../support/app.ts';
import { makeOrg, type Person, type TestOrg } from '../support/factories.ts';

/**
 * Department opening hours: set through the departments API (bad zones, times and intervals are
 * 400 invalid_request and change nothing), and followed by the widget: its config says open or
 * closed and when that changes, a chat outside the hours is refused (the leave-a-message form is
 * offered), across daylight saving changes (the fake clock).
 */

let t: TestApp;
before(async () => {
  t = await buildTestApp();
});
after(async () => {
  await t.close();
});

const SITE = 'https://shop.example';

const visitorCall = visitorCaller(() => t.app);

interface Setup {
  o: TestOrg;
  op: Person;
  dept: { id: string };
  widget: { public_key: string };
}

async function setup(): Promise<Setup> {
  const o = await makeOrg(t.ctx);
  const op = await o.user('operator', 'Olga Operator');
  const dept = (await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Sales' })).body;
  await call(t.app, o.owner.token, 'PUT', `/v1/departments/${dept.id}/operators`, {
    operator_ids: [op.actor.id],
  });
  const widget = (
    await call(t.app, o.owner.token, 'POST', '/v1/widgets', {
      name: 'Shop',
      allowed_origins: [SITE],
      department_ids: [dept.id],
    })
  ).body;
  await call(t.app, op.token, 'PUT', '/v1/support/availability', { status: 'available' });
  return { o, op, dept, widget };
}

const WEEKDAYS_9_TO_1730 = {
  time_zone: 'Europe/Berlin',
  weekly: Object.fromEntries(
    ['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '09:00', end: '17:30' }]]),
  ),
};

const setHours = (s: Setup, hours: unknown, who: Person = s.o.owner) =>
  call(t.app, who.token, 'PUT', `/v1/departments/${s.dept.id}/hours`, { hours });

async function config(s: Setup) {
  const res = await visitorCall(null, 'GET', `/v1/widget/config?key=${s.widget.public_key}`);
  assert.equal(res.status, 200, res.raw);
  return res.body;
}

describe('department hours', () => {
  test('set, read back sorted, remove', async () => {
    const s = await setup();
    const before = await call(t.app, s.o.owner.token, 'GET', `/v1/departments/${s.dept.id}`);
    assert.equal(before.body.hours, null);
    const set = await setHours(s, {
      time_zone: 'America/New_York',
      weekly: {
        mon: [
          { start: '13:00', end: '17:00' },
          { start: '08:30', end: '12:00' },
        ],
        sat: [{ start: '10:00', end: '24:00' }],
        sun: [],
      },
    });
    assert.equal(set.status, 200, set.raw);
    assert.deepEqual(set.body.hours, {
      time_zone: 'America/New_York',
      weekly: {
        mon: [
          { start: '08:30', end: '12:00' },
          { start: '13:00', end: '17:00' },
        ],
        sat: [{ start: '10:00', end: '24:00' }],
      },
    });
    const got = await call(t.app, s.op.token, 'GET', `/v1/departments/${s.dept.id}`);
    assert.deepEqual(got.body.hours, set.body.hours);
    const listed = await call(t.app, s.op.token, 'GET', '/v1/departments');
    assert.deepEqual(listed.body.items.find((d: any) => d.id === s.dept.id).hours, set.body.hours);
    const removed = await setHours(s, null);
    assert.equal(removed.status, 200, removed.raw);
    assert.equal(removed.body.hours, null);
    assert.equal((await call(t.app, s.op.token, 'GET', `/v1/departments/${s.dept.id}`)).body.hours, null);
  });

  test('bad zones, times and intervals are 400 invalid_request and change nothing', async () => {
    const s = await setup();
    assert.equal((await setHours(s, WEEKDAYS_9_TO_1730)).status, 200);
    const day = (intervals: unknown[]) => ({ time_zone: 'Europe/Berlin', weekly: { mon: intervals } });
    const bad: [unknown, string][] = [
      [{ time_zone: 'Mars/Olympus_Mons', weekly: {} }, 'body.time_zone'],
      [{ time_zone: '+01:00', weekly: {} }, 'body.time_zone'],
      [{ time_zone: 'Europe/Berlin; DROP', weekly: {} }, 'body.time_zone'],
      [day([{ start: '9:00', end: '17:00' }]), 'body.weekly.mon.0.start'],
      [day([{ start: '09:00', end: '25:00' }]), 'body.weekly.mon.0.end'],
      [day([{ start: '09:60', end: '10:00' }]), 'body.weekly.mon.0.start'],
      [day([{ start: '24:00', end: '24:00' }]), 'body.weekly.mon.0.start'],
      [day([{ start: '17:00', end: '09:00' }]), 'body.weekly.mon.0.end'],
      [day([{ start: '09:00', end: '09:00' }]), 'body.weekly.mon.0.end'],
      [
        day([
          { start: '09:00', end: '12:00' },
          { start: '11:30', end: '14:00' },
        ]),
        'body.weekly.mon.1',
      ],
      [
        day([
          { start: '13:00', end: '18:00' },
          { start: '08:00', end: '13:30' },
        ]),
        'body.weekly.mon.0',
      ],
    ];
    for (const [hours, path] of bad) {
      const res = await setHours(s, hours);
      assert.equal(res.status, 400, `${JSON.stringify(hours)}: ${res.raw}`);
      assert.equal(res.body.error.code, 'invalid_request', res.raw);
      assert.ok(
        res.body.error.details.some((d: { path: string }) => d.path === path),
        `${JSON.stringify(hours)} names ${path}: ${res.raw}`,
      );
    }
    // The shape itself: an unknown day, a missing field (the request schema's 400).
    for (const hours of [
      { time_zone: 'Europe/Berlin', weekly: { someday: [] } },
      { weekly: {} },
      { time_zone: 'UTC', weekly: { mon: [{ start: '09:00' }] } },
    ]) {
      const res = await setHours(s, hours);
      assert.equal(res.status, 400, res.raw);
      assert.equal(res.body.error.code, 'invalid_request', res.raw);
    }
    const still = await call(t.app, s.o.owner.token, 'GET', `/v1/departments/${s.dept.id}`);
    assert.deepEqual(still.body.hours, WEEKDAYS_9_TO_1730, 'nothing changed');
  });

  test('only admins set hours; other orgs get 404', async () => {
    const s = await setup();
    const byOp = await setHours(s, WEEKDAYS_9_TO_1730, s.op);
    assert.equal(byOp.status, 403, byOp.raw);
    assert.equal(byOp.body.error.code, 'admin_role_required');
    const other = await makeOrg(t.ctx);
    const byOther = await setHours(s, WEEKDAYS_9_TO_1730, other.owner);
    assert.equal(byOther.status, 404, byOther.raw);
    assert.equal(byOther.body.error.code, 'department_not_found');
    assert.equal(
      (await call(t.app, s.o.owner.token, 'GET', `/v1/departments/${s.dept.id}`)).body.hours,
      null,
    );
  });
});

describe('the widget follows the hours', () => {
  test('open and closed, the next opening across the spring DST change (Europe/Berlin)', async () => {
    const s = await setup();
    assert.equal((await setHours(s, WEEKDAYS_9_TO_1730)).status, 200);
    // Friday 27 March 2026, 16:00 UTC = 17:00 CET: open until 17:30 CET (16:30 UTC).
    t.clock.set(Date.UTC(2026, 2, 27, 16, 0));
    let c = await config(s);
    assert.equal(c.online, true);
    assert.deepEqual(c.departments[0], {
      id: s.dept.id,
      name: 'Sales',
      online: true,
      open: true,
      opens_at: null,
      closes_at: '2026-03-27T16:30:00.000Z',
    });
    // Saturday: closed. Clocks go forward on Sunday 29 March, so Monday 09:00 is 07:00 UTC (not 08:00).
    t.clock.set(Date.UTC(2026, 2, 28, 12, 0));
    c = await config(s);
    assert.equal(c.online, false, 'closed although an operator is available');
    assert.equal(c.departments[0].open, false);
    assert.equal(c.departments[0].opens_at, '2026-03-30T07:00:00.000Z');
    assert.equal(c.departments[0].closes_at, null);

    // Starting a chat is refused like when nobody is available; leaving a message works.
    const sess = await visitorCall(null, 'POST', '/v1/widget/sessions', { key: s.widget.public_key });
    assert.equal(sess.status, 201, sess.raw);
    const token = sess.body.token;
    const refused = await visitorCall(token, 'POST', '/v1/widget/chats', { question: 'anyone?' });
    assert.equal(refused.status, 409, refused.raw);
    assert.equal(refused.body.error.code, 'department_closed');
    assert.deepEqual(refused.body.error.details, {
      department_id: s.dept.id,
      opens_at: '2026-03-30T07:00:00.000Z',
    });
    const queue = await call(t.app, s.op.token, 'GET', '/v1/support/queue');
    assert.deepEqual(queue.body.items, [], 'no chat was started');
    const left = await visitorCall(token, 'POST', '/v1/widget/offline-messages', {
      email: 'vera@example.com',
      message: 'Call me on Monday',
    });
    assert.equal(left.status, 201, left.raw);
    assert.equal(left.body.state, 'missed');

    // Monday 30 March 07:00 UTC (09:00 CEST): open, and a chat starts.
    t.clock.set(Date.UTC(2026, 2, 30, 7, 0));
    c = await config(s);
    assert.equal(c.departments[0].open, true);
    assert.equal(c.departments[0].closes_at, '2026-03-30T15:30:00.000Z', '17:30 CEST');
    const started = await visitorCall(token, 'POST', '/v1/widget/chats', { question: 'hello' });
    assert.equal(started.status, 201, started.raw);
    // A minute before: still closed.
    t.clock.set(Date.UTC(2026, 2, 30, 6, 59));
    assert.equal((await config(s)).departments[0].open, false);
  });

  test('the autumn DST change (America/New_York) and several intervals a day', async () => {
    const s = await setup();
    const set = await setHours(s, {
      time_zone: 'America/New_York',
      weekly: {
        sat: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '15:00' },
        ],
        mon: [{ start: '09:00', end: '17:00' }],
      },
    });
    assert.equal(set.status, 200, set.raw);
    // Saturday 31 Oct 2026 12:30 EDT (16:30 UTC): the lunch gap; reopens 13:00 EDT = 17:00 UTC.
    t.clock.set(Date.UTC(2026, 9, 31, 16, 30));
    let d = (await config(s)).departments[0];
    assert.equal(d.open, false);
    assert.equal(d.opens_at, '2026-10-31T17:00:00.000Z');
    // 14:00 EDT: open until 15:00 EDT.
    t.clock.set(Date.UTC(2026, 9, 31, 18, 0));
    d = (await config(s)).departments[0];
    assert.equal(d.open, true);
    assert.equal(d.closes_at, '2026-10-31T19:00:00.000Z');
    // After closing: clocks go back on Sunday 1 Nov, so Monday 09:00 EST is 14:00 UTC (not 13:00).
    t.clock.set(Date.UTC(2026, 9, 31, 19, 0));
    d = (await config(s)).departments[0];
    assert.equal(d.open, false);
    assert.equal(d.opens_at, '2026-11-02T14:00:00.000Z');
    t.clock.set(Date.UTC(2026, 10, 2, 13, 30));
    assert.equal((await config(s)).departments[0].open, false, '08:30 EST');
    t.clock.set(Date.UTC(2026, 10, 2, 14, 0));
    assert.equal((await config(s)).departments[0].open, true, '09:00 EST');
  });

  test('without hours a department is open; closed every day has no next opening', async () => {
    const s = await setup();
    t.clock.set(Date.UTC(2026, 10, 21, 9, 0));
    let d = (await config(s)).departments[0];
    assert.deepEqual([d.online, d.open, d.opens_at, d.closes_at], [true, true, null, null]);
    assert.equal((await setHours(s, { time_zone: 'UTC', weekly: {} })).status, 200);
    d = (await config(s)).departments[0];
    assert.deepEqual([d.online, d.open, d.opens_at, d.closes_at], [false, false, null, null]);
  });
});
