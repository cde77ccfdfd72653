import type { Redis } from 'ioredis';
import type { AppContext } from '../context.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import { findPeers, sharesConversationWith } from '../store/repos/peers-presence.ts';
import { loadConversation } from './access.ts';
import { publishEphemeral } from './events.ts';
import { conversationAudience } from './recipients.ts';

/**
 * Presence (docs/api.md#presence): `online`, `away` or `offline`, derived from stream sockets
 * and activity, without database writes (a socket's life changes no row). Each node keeps how many sockets each actor has on it and records, per actor,
 * an entry per node with an expiry (refreshed every HEARTBEAT_MS; a node that dies stops
 * refreshing and its entries lapse): in Redis (a hash per actor, the key itself expiring) when
 * the nodes share one, otherwise in process. An actor with a live entry is online, or away
 * when idle for IDLE_MS or when they said so; without one, offline. Changes go out as the
 * ephemeral event `presence.changed` to the actors who share a conversation with them,
 * coalesced: at most one per actor per COALESCE_MS, and only when the status changed.
 */
export const PresenceStatus = ['online', 'away', 'offline'] as const;
export type PresenceStatus = (typeof PresenceStatus)[number];

const ENTRY_TTL_MS = 60_000;
const HEARTBEAT_MS = 20_000;
export const IDLE_MS = 5 * 60_000;
const AWAY_TTL_MS = 12 * 60 * 60_000;
const COALESCE_MS = 3_000;
/** How long a user's presence record (their last-seen time, for the digest) outlives their last socket. */
const KEY_TTL_MS = 7 * 24 * 60 * 60_000;
/** Activity is written to the shared store at most this often per actor. */
const TOUCH_EVERY_MS = 15_000;

interface Entry {
  expiresAt: number;
  lastActive: number;
}

interface Stored {
  entries: Entry[];
  away: boolean;
  /** When the actor's last socket (on any node) closed; null: not known. */
  seenAt: number | null;
}

interface PresenceBackend {
  touch(orgId: string, actorId: string, node: string, e: Entry): Promise<void>;
  drop(orgId: string, actorId: string, node: string): Promise<void>;
  setAway(orgId: string, actorId: string, away: boolean, now: number): Promise<void>;
  seen(orgId: string, actorId: string, at: number): Promise<void>;
  read(orgId: string, actorIds: readonly string[], now: number): Promise<Map<string, Stored>>;
}

class MemoryBackend implements PresenceBackend {
  readonly #m = new Map<string, { nodes: Map<string, Entry>; awayUntil: number; seenAt: number | null }>();
  #get(orgId: string, actorId: string) {
    const k = `${orgId}:${actorId}`;
    const v = this.#m.get(k) ?? { nodes: new Map<string, Entry>(), awayUntil: 0, seenAt: null };
    this.#m.set(k, v);
    return v;
  }
  async touch(orgId: string, actorId: string, node: string, e: Entry) {
    this.#get(orgId, actorId).nodes.set(node, e);
  }
  async drop(orgId: string, actorId: string, node: string) {
    this.#get(orgId, actorId).nodes.delete(node);
  }
  async setAway(orgId: string, actorId: string, away: boolean, now: number) {
    this.#get(orgId, actorId).awayUntil = away ? now + AWAY_TTL_MS : 0;
  }
  async seen(orgId: string, actorId: string, at: number) {
    this.#get(orgId, actorId).seenAt = at;
  }
  async read(orgId: string, actorIds: readonly string[], now: number) {
    const out = new Map<string, Stored>();
    for (const id of actorIds) {
      const v = this.#m.get(`${orgId}:${id}`);
      out.set(id, {
        entries: v ? [...v.nodes.values()].filter((e) => e.expiresAt > now) : [],
        away: (v?.awayUntil ?? 0) > now,
        seenAt: v?.seenAt ?? null,
      });
    }
    return out;
  }
}

class RedisBackend implements PresenceBackend {
  readonly #r: Redis;
  constructor(r: Redis) {
    this.#r = r;
  }
  #key(orgId: string, actorId: string) {
    return `parley:presence:${orgId}:${actorId}`;
  }
  async touch(orgId: string, actorId: string, node: string, e: Entry) {
    const k = this.#key(orgId, actorId);
    await this.#r
      .multi()
      .hset(k, `n:${node}`, `${e.expiresAt}:${e.lastActive}`)
      .pexpire(k, KEY_TTL_MS)
      .exec();
  }
  async seen(orgId: string, actorId: string, at: number) {
    const k = this.#key(orgId, actorId);
    await this.#r.multi().hset(k, 'seen', String(at)).pexpire(k, KEY_TTL_MS).exec();
  }
  async drop(orgId: string, actorId: string, node: string) {
    await this.#r.hdel(this.#key(orgId, actorId), `n:${node}`);
  }
  async setAway(orgId: string, actorId: string, away: boolean, now: number) {
    const k = this.#key(orgId, actorId);
    if (away)
      await this.#r
        .multi()
        .hset(k, 'away', String(now + AWAY_TTL_MS))
        .pexpire(k, KEY_TTL_MS)
        .exec();
    else await this.#r.hdel(k, 'away');
  }
  async read(orgId: string, actorIds: readonly string[], now: number) {
    const out = new Map<string, Stored>();
    if (actorIds.length === 0) return out;
    const p = this.#r.pipeline();
    for (const id of actorIds) p.hgetall(this.#key(orgId, id));
    const res = (await p.exec()) ?? [];
    actorIds.forEach((id, i) => {
      const h = (res[i]?.[1] ?? {}) as Record<string, string>;
      const entries: Entry[] = [];
      for (const [f, v] of Object.entries(h)) {
        if (!f.startsWith('n:')) continue;
        const [exp, act] = v.split(':').map(Number);
        if (exp! > now) entries.push({ expiresAt: exp!, lastActive: act! });
      }
      out.set(id, { entries, away: Number(h.away ?? 0) > now, seenAt: h.seen ? Number(h.seen) : null });
    });
    return out;
  }
}

export function statusOf(
  s: Stored | undefined,
  now: number,
): { status: PresenceStatus; lastActiveAt: number | null; seenAt: number | null } {
  const seenAt = s?.seenAt ?? null;
  if (!s || s.entries.length === 0) return { status: 'offline', lastActiveAt: null, seenAt };
  const lastActive = Math.max(...s.entries.map((e) => e.lastActive));
  const status = s.away || lastActive + IDLE_MS <= now ? 'away' : 'online';
  return { status, lastActiveAt: lastActive, seenAt };
}

/** One node's presence: its sockets, heartbeats and coalesced announcements. */
export class PresenceTracker {
  readonly #ctx: AppContext;
  readonly #backend: PresenceBackend;
  readonly #node: string;
  /** Sockets per `org:actor` on this node, with the last activity seen here. */
  readonly #local = new Map<
    string,
    { orgId: string; actorId: string; sockets: number; lastActive: number; touchedAt: number }
  >();
  /** What was last announced per `org:actor` (by this node). */
  readonly #announced = new Map<string, PresenceStatus>();
  readonly #pending = new Map<string, { orgId: string; actorId: string }>();
  #flushTimer: NodeJS.Timeout | null = null;
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;

  constructor(ctx: AppContext, redis: Redis | undefined) {
    this.#ctx = ctx;
    this.#backend = redis ? new RedisBackend(redis) : new MemoryBackend();
    this.#node = `${ctx.config.nodeId}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.#heartbeat = setInterval(() => void this.#beat().catch(() => undefined), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  #entry(now: number, lastActive: number): Entry {
    return { expiresAt: now + ENTRY_TTL_MS, lastActive };
  }

  async connected(p: Principal): Promise<void> {
    const k = `${p.orgId}:${p.actor.id}`;
    const now = this.#ctx.clock.now();
    const l = this.#local.get(k) ?? {
      orgId: p.orgId,
      actorId: p.actor.id,
      sockets: 0,
      lastActive: now,
      touchedAt: now,
    };
    l.sockets += 1;
    l.lastActive = now;
    l.touchedAt = now;
    this.#local.set(k, l);
    await this.#backend.touch(p.orgId, p.actor.id, this.#node, this.#entry(now, now));
    this.#schedule(p.orgId, p.actor.id);
  }

  async disconnected(p: Principal): Promise<void> {
    const k = `${p.orgId}:${p.actor.id}`;
    const l = this.#local.get(k);
    if (!l) return;
    l.sockets -= 1;
    if (l.sockets > 0) return;
    this.#local.delete(k);
    const now = this.#ctx.clock.now();
    await this.#backend.drop(p.orgId, p.actor.id, this.#node);
    await this.#backend.seen(p.orgId, p.actor.id, now);
    this.#schedule(p.orgId, p.actor.id);
  }

  /** A frame from the actor's socket: they are active (back from idle: announced). */
  async activity(p: Principal): Promise<void> {
    const l = this.#local.get(`${p.orgId}:${p.actor.id}`);
    if (!l) return;
    const now = this.#ctx.clock.now();
    const wasIdle = l.lastActive + IDLE_MS <= now;
    l.lastActive = now;
    if (!wasIdle && l.touchedAt + TOUCH_EVERY_MS > now) return;
    l.touchedAt = now;
    await this.#backend.touch(p.orgId, p.actor.id, this.#node, this.#entry(now, now));
    if (wasIdle) this.#schedule(p.orgId, p.actor.id);
  }

  async setAway(p: Principal, away: boolean): Promise<void> {
    await this.#backend.setAway(p.orgId, p.actor.id, away, this.#ctx.clock.now());
    this.#schedule(p.orgId, p.actor.id);
  }

  async read(orgId: string, actorIds: readonly string[]) {
    const now = this.#ctx.clock.now();
    const stored = await this.#backend.read(orgId, actorIds, now);
    return actorIds.map((id) => ({ actorId: id, ...statusOf(stored.get(id), now) }));
  }

  /** Refreshes this node's entries; actors gone idle are announced as away. */
  async #beat(): Promise<void> {
    const now = this.#ctx.clock.now();
    for (const l of this.#local.values()) {
      await this.#backend.touch(l.orgId, l.actorId, this.#node, this.#entry(now, l.lastActive));
      if (l.lastActive + IDLE_MS <= now) this.#schedule(l.orgId, l.actorId);
    }
  }

  #schedule(orgId: string, actorId: string): void {
    if (this.#closed) return;
    this.#pending.set(`${orgId}:${actorId}`, { orgId, actorId });
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      void this.flush().catch(() => undefined);
    }, COALESCE_MS);
    this.#flushTimer.unref();
  }

  /** Announces the pending actors whose status changed (the coalescing window's end). */
  async flush(): Promise<void> {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { orgId, actorId } of pending) {
      const [now] = await this.read(orgId, [actorId]);
      const k = `${orgId}:${actorId}`;
      if (!now || this.#announced.get(k) === now.status) continue;
      this.#announced.set(k, now.status);
      if (this.#announced.size > 100_000) this.#announced.clear();
      const peers = await findPeers(this.#ctx.db, orgId, actorId);
      if (peers.length === 0) continue;
      await publishEphemeral(this.#ctx, orgId, {
        type: 'presence.changed',
        conversationId: null,
        recipients: peers,
        payload: {
          actor_id: actorId,
          status: now.status,
          last_active_at: now.lastActiveAt === null ? null : new Date(now.lastActiveAt).toISOString(),
        },
      });
    }
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
  }
}

const trackers = new WeakMap<AppContext, PresenceTracker>();

/** Installs the node's presence tracker (app.ts, with the shared Redis when there is one). */
export function installPresence(ctx: AppContext, redis: Redis | undefined): PresenceTracker {
  const t = new PresenceTracker(ctx, redis);
  trackers.set(ctx, t);
  return t;
}

/** The node's tracker (an in-process one when none was installed). */
export function presenceOf(ctx: AppContext): PresenceTracker {
  return trackers.get(ctx) ?? installPresence(ctx, undefined);
}

export interface PresenceView {
  actorId: string;
  status: PresenceStatus;
  lastActiveAt: number | null;
  /** When their last socket closed (kept 7 days; in process only without Redis). */
  seenAt: number | null;
}

/** The presence of the given actors that share a conversation with the caller (others are left out). */
export async function getPresence(
  ctx: AppContext,
  p: Principal,
  actorIds: readonly string[],
): Promise<PresenceView[]> {
  const visible = await sharesConversationWith(ctx.db, p.orgId, p.actor.id, actorIds);
  return presenceOf(ctx).read(
    p.orgId,
    actorIds.filter((id) => id === p.actor.id || visible.has(id)),
  );
}

/** The presence of a conversation's current members. */
export async function getConversationPresence(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
): Promise<PresenceView[]> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const ids = (await conversationAudience(ctx.db, conversation.id)).slice(0, 1000);
  return presenceOf(ctx).read(p.orgId, ids);
}

/** Sets the caller away (until set online again, at most 12 hours) or back (`invalid_status` 400). */
export async function setMyPresence(ctx: AppContext, p: Principal, status: string): Promise<PresenceView> {
  if (status !== 'away' && status !== 'online')
    throw ValidationError.field('body.status', 'must be away or online', 'invalid_status');
  const t = presenceOf(ctx);
  await t.setAway(p, status === 'away');
  const [me] = await t.read(p.orgId, [p.actor.id]);
  return me!;
}
