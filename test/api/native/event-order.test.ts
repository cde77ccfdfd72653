import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import type { DomainEvent } from '../../../src/domain/events.ts';
import { catchUpPage } from '../../../src/services/events.ts';
import { inTransaction } from '../../../src/services/tx.ts';
import { call } from '../../support/app.ts';
import { testDialect } from '../../support/db.ts';
import { makeOrg } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';
import { connectStream } from '../../support/stream.ts';

/**
 * Event positions need no lock that writers of an org share (store/repos/events.ts), so on
 * PostgreSQL a transaction that took a LOWER position can commit AFTER one that took a higher.
 * Catch-up and live delivery must still give every event once, in position order, with nothing
 * missed: they read only below the horizon. These tests force that order.
 */

const t = useTestApp({}, { gateway: { gapFillMs: 50 }, listen: true });

const isMessage = (f: any) => f.type === 'event' && f.event === 'message.created';

/** A gate a test opens by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

async function setup() {
  const o = await makeOrg(t.ctx);
  const bob = await o.user('member', 'Bob');
  const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'order',
    member_ids: [bob.actor.id],
  });
  return { o, bob, id: g.body.id as string };
}

describe('event positions', () => {
  test('positions grow and are never handed out twice, across orgs', async () => {
    const a = await setup();
    const b = await setup();
    const s = await connectStream(t.base, { token: a.bob.token });
    const ready = await s.next((f) => f.type === 'ready');
    for (let i = 0; i < 5; i++) {
      await call(t.app, a.o.owner.token, 'POST', `/v1/conversations/${a.id}/messages`, { text: `a${i}` });
      await call(t.app, b.o.owner.token, 'POST', `/v1/conversations/${b.id}/messages`, { text: `b${i}` });
    }
    for (let i = 0; i < 5; i++) await s.next(isMessage);
    const seqs = s.seen(isMessage).map((f) => f.seq as number);
    assert.ok(seqs[0]! > ready.seq);
    assert.ok(
      seqs.every((q, i) => i === 0 || q > seqs[i - 1]!),
      `increasing: ${seqs}`,
    );
    assert.deepEqual(
      s.seen(isMessage).map((f) => f.data.message.text),
      ['a0', 'a1', 'a2', 'a3', 'a4'],
    );
    await s.close();
  });

  test('a lower position that commits last: catch-up and the live stream wait for it, then give both in order', async (c) => {
    if (testDialect !== 'postgres') {
      c.skip('SQLite has one writer at a time: positions follow commit order there');
      return;
    }
    const { o, bob, id } = await setup();
    const live = await connectStream(t.base, { token: bob.token });
    const ready = await live.next((f) => f.type === 'ready');

    // Writer A takes its transaction id (so its position) first, then waits.
    const aStarted = gate();
    const aMayCommit = gate();
    const writerA = inTransaction(t.ctx, async (tx) => {
      await sql`select pg_current_xact_id()`.execute(tx.db);
      aStarted.open();
      await aMayCommit.opened;
      tx.emit(o.org.id, [
        {
          type: 'message.created',
          conversationId: id,
          recipients: [bob.actor.id],
          payload: { message: { id: 'A', text: 'written first, committed last' } },
        },
      ]);
    });
    await aStarted.opened;

    // Writer B, a real send, starts later (a higher position) and commits while A is open.
    const sentB = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'B' });
    assert.equal(sentB.status, 201);

    // A reader catching up now must not pass B: A's lower position is not settled yet.
    // (The setup's own events may still be ahead of `ready` when the machine is busy.)
    const messages = (events: DomainEvent[]) => events.filter((e) => e.type === 'message.created');
    const early = await catchUpPage(t.ctx, o.org.id, bob.actor.id, ready.seq);
    assert.deepEqual(messages(early.events), [], 'nothing is readable above an open lower position');
    // Nor does the live socket get B ahead of A (give the gateway a few reads of the log).
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(live.seen(isMessage).length, 0, 'B is held back while A is open');

    aMayCommit.open();
    await writerA;

    const first = await live.next(isMessage);
    const second = await live.next(isMessage);
    assert.equal(first.data.message.id, 'A');
    assert.equal(second.data.message.id, sentB.body.id);
    assert.ok(first.seq < second.seq);

    // Catch-up from where the early reader stopped gives both, once, in order.
    const page = await catchUpPage(t.ctx, o.org.id, bob.actor.id, early.scannedTo);
    assert.ok(early.scannedTo < first.seq);
    assert.deepEqual(
      messages(page.events).map((e) => e.seq),
      [first.seq, second.seq],
    );
    const again = await catchUpPage(t.ctx, o.org.id, bob.actor.id, page.scannedTo);
    assert.deepEqual(messages(again.events), [], 'nothing twice');

    // A client that reconnects with the position of B gets nothing of A or B again.
    const re = await connectStream(t.base, { token: bob.token, since: second.seq });
    await re.next((f) => f.type === 'ready');
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'after' });
    const next = await re.next(isMessage);
    assert.equal(next.data.message.text, 'after');
    assert.equal(re.seen(isMessage).length, 1);
    await Promise.all([live.close(), re.close()]);
  });
});
