import type { AppContext, Db } from '../context.ts';
import type { DomainEvent, NewEvent } from '../domain/events.ts';
import type { AuditEvent } from '../domain/model.ts';
import { insertAuditEvents } from '../store/repos/audit.ts';
import { insertEvents, type UnnumberedEvent } from '../store/repos/events.ts';
import { indexPendingMessages } from '../store/repos/search.ts';
import type { AuditEntry } from './audit.ts';
import { publishEvents } from './events.ts';

/**
 * A write transaction as a use case sees it: the query handle (`tx.db`), and what the change
 * records besides its rows, the events (`tx.emit`) and the audit records (`tx.audit`), as
 * Zulip's `do_*` actions own their transaction, audit row and after-commit event.
 *
 * Events and audit records are written in the transaction itself, just before it commits
 * (so the event sinks, such as webhook deliveries, see every event of the change at once,
 * and a crash keeps both or neither); events are published to the bus only after the commit.
 */
export interface Tx {
  readonly db: Db;
  /** Records events of `orgId` that this change causes. */
  emit(orgId: string, events: readonly NewEvent[]): void;
  /** Records audit entries of this change. */
  audit(entries: readonly AuditEntry[]): void;
  /**
   * Records events of `orgId` each with its audit entry, by `actorId` (null: the system acted):
   * the pair an audited change writes, built from the same facts. An entry's target is the
   * event's conversation unless it names another.
   */
  emitAudited(orgId: string, actorId: string | null, changes: readonly AuditedEvent[]): void;
}

/** An event and the audit entry of the same change (see Tx.emitAudited). */
export interface AuditedEvent {
  event: NewEvent;
  audit: Pick<AuditEntry, 'action' | 'details' | 'targetType'> & { targetId?: string };
}

class Recorder implements Tx {
  readonly db: Db;
  readonly #ctx: AppContext;
  #events: UnnumberedEvent[] = [];
  #audits: AuditEntry[] = [];
  #stored = 0;

  constructor(ctx: AppContext, db: Db) {
    this.#ctx = ctx;
    this.db = db;
  }

  emit(orgId: string, events: readonly NewEvent[]): void {
    const now = this.#ctx.clock.now();
    for (const e of events) {
      this.#events.push({
        orgId,
        type: e.type,
        conversationId: e.conversationId ?? null,
        recipients: [...new Set(e.recipients)],
        ...(e.audience ? { audience: e.audience } : {}),
        payload: e.payload,
        createdAt: now,
      });
    }
  }

  audit(entries: readonly AuditEntry[]): void {
    this.#audits.push(...entries);
  }

  emitAudited(orgId: string, actorId: string | null, changes: readonly AuditedEvent[]): void {
    this.emit(
      orgId,
      changes.map((c) => c.event),
    );
    this.audit(
      changes.map(({ event, audit }) => {
        const targetId = audit.targetId ?? event.conversationId;
        if (!targetId) throw new Error(`The audit entry ${audit.action} names no target`);
        return { ...audit, orgId, actorId, targetId };
      }),
    );
  }

  /** Writes what was recorded (still inside the transaction); returns the numbered events. */
  async flush(): Promise<DomainEvent[]> {
    const ctx = this.#ctx;
    let recorded: DomainEvent[] = [];
    if (this.#events.length > 0) {
      recorded = await insertEvents(this.db, this.#events, this.#stored);
      this.#stored += recorded.length;
      this.#events = [];
      for (const sink of ctx.eventSinks) await sink(ctx, this.db, recorded);
    }
    if (this.#audits.length > 0) {
      const now = ctx.clock.now();
      await insertAuditEvents(
        this.db,
        this.#audits.map(
          (e): AuditEvent => ({
            id: ctx.ids.next(),
            orgId: e.orgId,
            actorId: e.actorId,
            action: e.action,
            targetType: e.targetType ?? 'conversation',
            targetId: e.targetId,
            details: e.details,
            createdAt: now,
          }),
        ),
      );
      this.#audits = [];
    }
    return recorded;
  }
}

/**
 * Runs `fn` in one write transaction; services use it for every write. It resolves only after
 * the commit, and the events recorded in it are published only then. On the embedded database
 * the transactions of one tick share one commit (store/group-commit.ts). `fn` must use
 * `tx.db` for every query (a query on ctx.db inside it would wait for the commit).
 */
export async function inTransaction<T>(ctx: AppContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const body = async (db: Db): Promise<[T, DomainEvent[]]> => {
    const tx = new Recorder(ctx, db);
    const result = await fn(tx);
    return [result, await tx.flush()];
  };
  const [result, events] = ctx.groupCommit
    ? await ctx.groupCommit.run(body) // it indexes what is pending for search before its COMMIT
    : await ctx.db.transaction().execute(async (db) => {
        const out = await body(db);
        await indexPendingMessages(db);
        return out;
      });
  if (events.length > 0) await publishEvents(ctx, events);
  return result;
}

/**
 * As inTransaction, but always in a database transaction of its own, never sharing the
 * group commit's: for background work (a deletion job's step) that must not hold up, or
 * share the fate of, live traffic.
 */
export async function inOwnTransaction<T>(ctx: AppContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const [result, events] = await ctx.db.transaction().execute(async (db): Promise<[T, DomainEvent[]]> => {
    const tx = new Recorder(ctx, db);
    const value = await fn(tx);
    const events = await tx.flush();
    await indexPendingMessages(db);
    return [value, events];
  });
  if (events.length > 0) await publishEvents(ctx, events);
  return result;
}
