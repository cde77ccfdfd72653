import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkHours,
  type DepartmentHours,
  hoursStateAt,
  instantOf,
  isOpenAt,
  isTimeZone,
} from '../../src/domain/support-hours.ts';

/** domain/support-hours.ts: validation and the zone arithmetic (Intl), around DST changes. */

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

test('time zones: IANA names only', () => {
  for (const z of ['Europe/Berlin', 'America/Argentina/Buenos_Aires', 'UTC', 'Asia/Kolkata', 'Etc/GMT+5'])
    assert.ok(isTimeZone(z), z);
  for (const z of ['', 'Mars/Base', '+01:00', 'Europe/Berlin ', '../etc/passwd', 'Europe//Berlin'])
    assert.ok(!isTimeZone(z), z);
});

test('local wall time to an instant: ordinary, skipped (spring) and repeated (autumn) times', () => {
  // Berlin: 2026-03-29 02:00 CET jumps to 03:00 CEST; 2026-10-25 03:00 CEST goes back to 02:00 CET.
  assert.equal(iso(instantOf('Europe/Berlin', 2026, 3, 28, 9 * 60)), '2026-03-28T08:00:00.000Z');
  assert.equal(iso(instantOf('Europe/Berlin', 2026, 3, 30, 9 * 60)), '2026-03-30T07:00:00.000Z');
  assert.equal(
    iso(instantOf('Europe/Berlin', 2026, 3, 29, 150)),
    '2026-03-29T01:30:00.000Z',
    '02:30 → 03:30 CEST',
  );
  assert.equal(
    iso(instantOf('Europe/Berlin', 2026, 10, 25, 150)),
    '2026-10-25T00:30:00.000Z',
    'the first 02:30',
  );
  assert.equal(
    iso(instantOf('Asia/Kolkata', 2026, 1, 5, 9 * 60)),
    '2026-01-05T03:30:00.000Z',
    'half-hour offset',
  );
  assert.equal(
    iso(instantOf('UTC', 2026, 1, 5, 24 * 60)),
    '2026-01-06T00:00:00.000Z',
    '24:00 is the next midnight',
  );
});

test('open, closed and the next change, in the southern hemisphere across its DST start', () => {
  // Sydney: 2026-10-04 02:00 AEST jumps to 03:00 AEDT.
  const h: DepartmentHours = {
    timeZone: 'Australia/Sydney',
    weekly: { fri: [{ start: '09:00', end: '17:00' }], mon: [{ start: '09:00', end: '17:00' }] },
  };
  // Friday 2 Oct 10:00 AEST = 00:00 UTC: open until 17:00 AEST = 07:00 UTC.
  let s = hoursStateAt(h, Date.UTC(2026, 9, 2, 0, 0));
  assert.deepEqual([s.open, iso(s.opensAt), iso(s.closesAt)], [true, null, '2026-10-02T07:00:00.000Z']);
  // After closing: Monday 5 Oct 09:00 AEDT = Sunday 22:00 UTC (not 23:00).
  s = hoursStateAt(h, Date.UTC(2026, 9, 2, 7, 0));
  assert.deepEqual([s.open, iso(s.opensAt), iso(s.closesAt)], [false, '2026-10-04T22:00:00.000Z', null]);
  assert.ok(!isOpenAt(h, Date.UTC(2026, 9, 4, 21, 59)));
  assert.ok(isOpenAt(h, Date.UTC(2026, 9, 4, 22, 0)));
});

test('adjacent intervals and 24:00 run on without a change; always open has none', () => {
  const h: DepartmentHours = {
    timeZone: 'UTC',
    weekly: {
      mon: [
        { start: '08:00', end: '12:00' },
        { start: '12:00', end: '24:00' },
      ],
      tue: [{ start: '00:00', end: '06:00' }],
    },
  };
  const s = hoursStateAt(h, Date.UTC(2026, 10, 23, 9, 0)); // Monday
  assert.deepEqual([s.open, iso(s.closesAt)], [true, '2026-11-24T06:00:00.000Z']);
  const always: DepartmentHours = {
    timeZone: 'UTC',
    weekly: Object.fromEntries(
      ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]),
    ),
  };
  assert.deepEqual(hoursStateAt(always, Date.UTC(2026, 10, 23, 9, 0)), {
    open: true,
    opensAt: null,
    closesAt: null,
  });
});

test('validation names every problem', () => {
  const problems = checkHours({
    timeZone: 'Nowhere/Land',
    weekly: {
      mon: [
        { start: '7:00', end: '10:00' },
        { start: '12:00', end: '11:00' },
      ],
      tue: [
        { start: '09:00', end: '12:00' },
        { start: '10:00', end: '13:00' },
      ],
      wed: [{ start: '10:00', end: '24:01' }],
    },
  });
  assert.deepEqual(
    problems.map((p) => p.path),
    ['time_zone', 'weekly.mon.0.start', 'weekly.mon.1.end', 'weekly.tue.1', 'weekly.wed.0.end'],
  );
  assert.deepEqual(
    checkHours({ timeZone: 'Europe/Paris', weekly: { sat: [{ start: '10:00', end: '24:00' }] } }),
    [],
  );
});
