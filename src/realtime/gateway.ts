import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../context.ts';
import { AppError } from '../domain/errors.ts';
import { type DomainEvent, keepsMembers } from '../domain/events.ts';
import { isId } from '../domain/ids.ts';
import { iso, presentMessage } from '../domain/presenters.ts';
import type { Principal } from '../domain/principal.ts';
import { toAppError } from '../http/errors.ts';
import {
  catchUpPage,
  conversationMembers,
  eventsAt,
  eventTail,
  lastEventSeq,
  newestEventSettled,
} from '../services/events.ts';
import { sendMessage } from '../services/messages.ts';
import { presenceOf } from '../services/presence.ts';
import { startTyping } from '../services/typing.ts';

/** Close codes of the stream (4xxx are Parley's own; the reason says what to do). */
export const StreamClose = {
  GOING_AWAY: 1001,
  UNAUTHORIZED: 4001,
  BAD_REQUEST: 4400,
  SLOW_CONSUMER: 4008,
  RESYNC_REQUIRED: 4009,
  /** A dependency (the database) is unavailable: reconnect with `since` shortly. */
  TRY_AGAIN_LATER: 1013,
  /** Too many frames from this socket, or too many sockets for this actor or org. */
  TOO_MANY: 4029,
} as const;

export interface GatewayOptions {
  /** How often sockets are pinged; one without a pong by the next ping is dropped. */
  pingMs: number;
  /** A socket with more than this many bytes queued is a slow consumer and is closed. */
  maxBufferedBytes: number;
  /** Live events held for one client while it catches up, at most. */
  maxCatchUpBuffer: number;
  /**
   * How long an event that arrived ahead of the ones before it waits before the node reads
   * the log for what is missing (dense positions); the longest wait between reads of the log
   * while an event is above the horizon (snapshot positions).
   */
  gapFillMs: number;
  /**
   * How often the node compares each watched org's last committed event with what it has
   * delivered and reads what is missing: pub/sub delivers at most once, and an event lost
   * (Redis away, a publisher that could not publish) with no later event to reveal the gap
   * would otherwise never reach the sockets.
   */
  tailCheckMs: number;
  /**
   * Snapshot positions: the least time between two reads of the log's tail that arrivals wake.
   * Under load arrivals come faster than a read takes, and the reads ran back to back, one or
   * two events each; waiting this long after a read lets one read settle all that came meanwhile
   * (fewer queries per message, for a delivery at most this much later). 0: read at once.
   */
  tailReadIntervalMs: number;
  /** Frames one socket may send per second; more are refused, and twice as many close it (4029). */
  maxFramesPerSecond: number;
  /** Open sockets per actor on this node; another upgrade is refused (429). */
  maxSocketsPerActor: number;
  /** Open sockets per org on this node. */
  maxSocketsPerOrg: number;
}

export const DEFAULT_GATEWAY_OPTIONS: GatewayOptions = {
  pingMs: 30_000,
  maxBufferedBytes: 1 << 20,
  maxCatchUpBuffer: 10_000,
  gapFillMs: 250,
  tailCheckMs: 2_000,
  tailReadIntervalMs: 2,
  maxFramesPerSecond: 50,
  maxSocketsPerActor: 32,
  maxSocketsPerOrg: 10_000,
};

interface Client {
  socket: WebSocket;
  principal: Principal;
  alive: boolean;
  /** Live events held while the client catches up from the database; null once live. */
  buffer: DomainEvent[] | null;
  /** The highest sequence number sent to this client. */
  sentUpTo: number;
  /** Start (ms) of the current one-second window of inbound frames, and the frames in it. */
  frameWindowAt: number;
  framesInWindow: number;
  /** Counted in presence (services/presence.ts) since it became ready. */
  present?: boolean;
}

interface OrgState {
  clients: Map<string, Set<Client>>;
  /** Sockets of the org on this node. */
  sockets: number;
  ready: Promise<void>;
  /**
   * The current members of conversations that had events for their members, read from the
   * database when first needed and forgotten at any other event of the conversation (joins,
   * leaves, support moves), oldest first beyond MEMBER_CACHE_SIZE.
   */
  members: Map<string, Set<string>>;
}

/** Conversations whose members a node remembers per org. */
const MEMBER_CACHE_SIZE = 2_000;

/** The longest catch-up waits for an open lower position before it sends `ready` anyway. */
const CATCH_UP_SETTLE_MS = 5_000;

/** The frame of an event: serialized once, sent as is to every socket that gets it. */
function frameOf(e: DomainEvent): string {
  return JSON.stringify({
    type: 'event',
    seq: e.seq,
    event: e.type,
    conversation_id: e.conversationId,
    data: e.payload,
    at: iso(e.createdAt),
  });
}

/**
 * The WebSocket gateway of one node. It delivers the event log in position order: `#cursor`
 * is the position up to which every event of the orgs it watches has been delivered. Events
 * reach it through the bus after their commit; positions are settled by the store's horizon
 * (store/repos/events.ts), so an event is delivered only once the log below it is known:
 * - dense positions (the embedded database): the event after the cursor is delivered at once;
 *   one that arrives ahead of a missing position waits `gapFillMs`, then the log is read;
 * - snapshot positions (PostgreSQL, many nodes): each arrival wakes a read of the log's tail
 *   (positions and orgs, index-only) up to the horizon; events the bus brought are delivered
 *   from memory, the others (lost by pub/sub, written by another process) from the log. An
 *   event still above the horizon (a transaction with a lower position is still open) waits
 *   for the next read.
 * Each event is serialized once and sent to the sockets of its recipients on this node. A
 * client that connects with `since` first gets what it missed from the database, then live
 * events, with nothing lost or sent twice.
 */
export class Gateway {
  readonly #ctx: AppContext;
  readonly #log: FastifyBaseLogger;
  readonly #opts: GatewayOptions;
  readonly #orgs = new Map<string, OrgState>();
  readonly #unsubscribe: () => void;
  readonly #pingTimer: NodeJS.Timeout;
  readonly #tailTimer: NodeJS.Timeout;
  readonly #dense: boolean;
  /** Every event of a watched org up to here has been delivered; null until first read. */
  #cursor: number | null = null;
  #cursorReady: Promise<void> | null = null;
  /** Events the bus brought that are not delivered yet, by position. */
  readonly #pending = new Map<number, DomainEvent>();
  #pumping = false;
  #pumpAgain = false;
  #pumpTimer: NodeJS.Timeout | null = null;
  #pumpDelayMs = 0;
  /** When the last read of the log's tail ended (snapshot positions; see tailReadIntervalMs). */
  #lastPumpEnd = 0;
  /** Events waiting for the members of their conversation to be read (then delivered in order). */
  readonly #outbox: { org: OrgState; e: DomainEvent }[] = [];
  /** Ephemeral events waiting behind stored ones (see #onBusEvent). */
  readonly #held: { org: OrgState; e: DomainEvent }[] = [];
  #heldTimer: NodeJS.Timeout | null = null;
  #drainingOutbox = false;
  #closing = false;
  #delivered = 0;

  constructor(ctx: AppContext, log: FastifyBaseLogger, opts: GatewayOptions) {
    this.#ctx = ctx;
    this.#log = log;
    this.#opts = opts;
    this.#dense = ctx.caps.eventPositions === 'dense';
    this.#unsubscribe = ctx.bus.subscribe((e) => this.#onBusEvent(e));
    this.#pingTimer = setInterval(() => this.#ping(), opts.pingMs);
    this.#pingTimer.unref();
    this.#tailTimer = setInterval(() => this.#orgs.size > 0 && void this.#pump(), opts.tailCheckMs);
    this.#tailTimer.unref();
  }

  /** Events sent to sockets by this node since it started (one per socket), for /metrics. */
  get deliveredCount(): number {
    return this.#delivered;
  }

  get socketCount(): number {
    let n = 0;
    for (const org of this.#orgs.values()) for (const set of org.clients.values()) n += set.size;
    return n;
  }

  /**
   * Refuses another socket for this principal when the actor or the org already has as many
   * as it may on this node: `too_many_streams` (429), before the upgrade.
   */
  checkCapacity(principal: Principal): void {
    const org = this.#orgs.get(principal.orgId);
    const full = this.#fullFor(principal, org, 0);
    if (full) throw tooManyStreams(full.per, full.limit);
  }

  #fullFor(
    principal: Principal,
    org: OrgState | undefined,
    extra: number,
  ): { per: 'actor' | 'org'; limit: number } | null {
    const mine = org?.clients.get(principal.actor.id)?.size ?? 0;
    if (mine - extra >= this.#opts.maxSocketsPerActor)
      return { per: 'actor', limit: this.#opts.maxSocketsPerActor };
    if ((org?.sockets ?? 0) - extra >= this.#opts.maxSocketsPerOrg)
      return { per: 'org', limit: this.#opts.maxSocketsPerOrg };
    return null;
  }

  /** Serves one authenticated socket; `since` asks for catch-up from that sequence number. */
  async attach(socket: WebSocket, principal: Principal, since: number | undefined): Promise<void> {
    if (this.#closing) {
      socket.close(StreamClose.GOING_AWAY, 'server shutting down');
      return;
    }
    const client: Client = {
      socket,
      principal,
      alive: true,
      buffer: since === undefined ? null : [],
      sentUpTo: 0,
      frameWindowAt: 0,
      framesInWindow: 0,
    };
    const org = this.#org(principal.orgId);
    const set = org.clients.get(principal.actor.id) ?? new Set<Client>();
    org.clients.set(principal.actor.id, set);
    set.add(client);
    org.sockets += 1;
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('close', () => this.#detach(client));
    socket.on('message', (data) => {
      const text = data.toString();
      if (this.#allowFrame(client, text)) {
        if (client.present)
          void presenceOf(this.#ctx)
            .activity(client.principal)
            .catch(() => undefined);
        void this.#onMessage(client, text);
      }
    });
    // Upgrades racing each other all passed checkCapacity: the ones past the cap are closed.
    const full = this.#fullFor(principal, org, 1);
    if (full) {
      socket.close(StreamClose.TOO_MANY, `too_many_streams: at most ${full.limit} per ${full.per}`);
      return;
    }
    try {
      await org.ready;
      if (since === undefined) {
        client.sentUpTo = this.#cursor ?? 0;
      } else {
        await this.#catchUp(client, since);
      }
      this.#send(client, JSON.stringify({ type: 'ready', seq: client.sentUpTo }));
      if (socket.readyState === socket.OPEN) {
        client.present = true;
        void presenceOf(this.#ctx)
          .connected(principal)
          .catch(() => undefined);
      }
    } catch (err) {
      // The same normalization as every surface: a database outage is `database_unavailable`
      // (close 1013, try again later), not an internal error.
      const e = toAppError(err);
      if (e.kind === 'internal') this.#log.error({ err }, 'stream catch-up failed');
      this.#send(client, JSON.stringify({ type: 'error', code: e.code, message: e.message }));
      socket.close(
        e.code === 'resync_required'
          ? StreamClose.RESYNC_REQUIRED
          : e.kind === 'unavailable'
            ? StreamClose.TRY_AGAIN_LATER
            : StreamClose.BAD_REQUEST,
        e.code,
      );
    }
  }

  /**
   * Sends what the client missed, then `ready`. Catch-up reads only settled positions; when a
   * write transaction holding a lower position is still open, it waits for it (a bounded
   * while) and reads again, so `ready` means every event committed before the client came is
   * behind it (what commits later comes live).
   */
  async #catchUp(client: Client, since: number): Promise<void> {
    const { orgId, actor } = client.principal;
    const open = () => client.socket.readyState === client.socket.OPEN;
    const deadline = Date.now() + CATCH_UP_SETTLE_MS;
    let after = since;
    for (;;) {
      const settled = await newestEventSettled(this.#ctx);
      for (;;) {
        const page = await catchUpPage(this.#ctx, orgId, actor.id, after);
        for (const e of page.events) this.#send(client, frameOf(e));
        after = page.scannedTo;
        if (page.done || !open()) break;
      }
      if (settled || !open() || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    client.sentUpTo = after;
    const held = client.buffer ?? [];
    client.buffer = null;
    for (const e of held) this.#deliverTo(client, e, frameOf(e));
  }

  #org(orgId: string): OrgState {
    let org = this.#orgs.get(orgId);
    if (org) return org;
    // A node that watched nothing kept no cursor: start from the log's end, not from where it stopped.
    if (this.#orgs.size === 0) this.#cursorReady = null;
    const state: OrgState = { clients: new Map(), sockets: 0, ready: Promise.resolve(), members: new Map() };
    state.ready = (async () => {
      await this.#ctx.bus.watch(orgId);
      await this.#initCursor();
    })();
    this.#orgs.set(orgId, state);
    org = state;
    return org;
  }

  /** The cursor starts at the last settled position when the node first watches an org. */
  #initCursor(): Promise<void> {
    this.#cursorReady ??= (async () => {
      try {
        const last = await lastEventSeq(this.#ctx);
        this.#cursor = Math.max(this.#cursor ?? 0, last);
      } catch (err) {
        this.#cursorReady = null;
        throw err;
      }
      for (const seq of this.#pending.keys()) if (seq <= this.#cursor) this.#pending.delete(seq);
      if (this.#pending.size > 0) this.#schedulePump(0);
    })();
    return this.#cursorReady;
  }

  #detach(client: Client): void {
    const { orgId, actor } = client.principal;
    const org = this.#orgs.get(orgId);
    const set = org?.clients.get(actor.id);
    if (!org || !set) return;
    if (set.delete(client)) org.sockets -= 1;
    if (client.present)
      void presenceOf(this.#ctx)
        .disconnected(client.principal)
        .catch(() => undefined);
    if (set.size === 0) org.clients.delete(actor.id);
    if (org.clients.size === 0) {
      this.#orgs.delete(orgId);
      void this.#ctx.bus.unwatch(orgId);
    }
  }

  #onBusEvent(e: DomainEvent): void {
    if (e.seq === 0) {
      const org = this.#orgs.get(e.orgId);
      if (!org) return;
      // Ephemeral (typing): no position, but it does not overtake stored events that arrived
      // before it and wait for the log to be read (a typing indicator after the message that
      // preceded it); held at most gapFillMs.
      if (this.#pending.size > 0) {
        this.#held.push({ org, e });
        if (!this.#heldTimer) {
          this.#heldTimer = setTimeout(() => this.#releaseHeld(true), this.#opts.gapFillMs);
          this.#heldTimer.unref();
        }
        return;
      }
      this.#deliver(org, e);
      return;
    }
    if (this.#cursorReady === null) return; // nobody watches anything on this node yet
    if (this.#cursor !== null && e.seq <= this.#cursor) return; // delivered already
    this.#pending.set(e.seq, e);
    if (this.#cursor === null) return; // delivered once the cursor is read
    if (this.#dense) {
      this.#drainContiguous();
      if (this.#pending.size > 0) this.#schedulePump(this.#opts.gapFillMs);
    } else {
      const wait = this.#lastPumpEnd + this.#opts.tailReadIntervalMs - performance.now();
      this.#schedulePump(wait > 0 ? Math.ceil(wait) : 0);
    }
  }

  /** Dense positions: delivers the events that directly follow the cursor. */
  #drainContiguous(): void {
    let next = this.#pending.get(this.#cursor! + 1);
    while (next) {
      this.#pending.delete(next.seq);
      this.#cursor = next.seq;
      const org = this.#orgs.get(next.orgId);
      if (org) this.#deliver(org, next);
      next = this.#pending.get(this.#cursor + 1);
    }
    if (this.#pending.size === 0 && this.#pumpTimer) {
      clearTimeout(this.#pumpTimer);
      this.#pumpTimer = null;
    }
    this.#releaseHeld(false);
  }

  /** Delivers the held ephemeral events once nothing stored is waiting (or, `all`, their time is up). */
  #releaseHeld(all: boolean): void {
    if (this.#held.length === 0 || (!all && this.#pending.size > 0)) return;
    if (this.#heldTimer) clearTimeout(this.#heldTimer);
    this.#heldTimer = null;
    const held = this.#held.splice(0);
    for (const { org, e } of held) this.#deliver(org, e);
  }

  #schedulePump(delayMs: number): void {
    if (this.#closing) return;
    if (delayMs === 0) {
      void this.#pump();
      return;
    }
    if (this.#pumpTimer) return;
    this.#pumpTimer = setTimeout(() => {
      this.#pumpTimer = null;
      void this.#pump();
    }, delayMs);
    this.#pumpTimer.unref();
  }

  /**
   * Reads the log after the cursor (up to the horizon) and delivers it in order: from memory
   * what the bus brought, from the log what it did not. One read at a time; an arrival during
   * a read asks for another.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    if (this.#cursor === null) return;
    this.#pumping = true;
    const LIMIT = 1000;
    // Snapshot positions: arrivals during a read are read after tailReadIntervalMs, not at once.
    const againAtOnce = this.#dense || this.#opts.tailReadIntervalMs === 0;
    let full = false;
    try {
      do {
        this.#pumpAgain = false;
        // Dense positions: everything below the newest arrival is committed and flushed (the
        // bus brings events after their flush, in commit order). Without arrivals (the
        // periodic check), everything committed.
        const below =
          this.#dense && this.#pending.size > 0 ? Math.max(...this.#pending.keys()) + 1 : undefined;
        const tail = await eventTail(this.#ctx, this.#cursor, LIMIT, below);
        const missing = tail
          .filter((t) => this.#orgs.has(t.orgId) && !this.#pending.has(t.seq))
          .map((t) => t.seq);
        const read = new Map((await eventsAt(this.#ctx, missing)).map((e) => [e.seq, e]));
        for (const t of tail) {
          if (t.seq <= this.#cursor) continue;
          this.#cursor = t.seq;
          const e = this.#pending.get(t.seq) ?? read.get(t.seq);
          this.#pending.delete(t.seq);
          const org = this.#orgs.get(t.orgId);
          if (org && e) this.#deliver(org, e);
        }
        // Arrivals at or below the cursor that the log no longer has were purged meanwhile.
        for (const seq of this.#pending.keys()) if (seq <= this.#cursor) this.#pending.delete(seq);
        full = tail.length === LIMIT;
      } while ((full || (this.#pumpAgain && againAtOnce)) && !this.#closing);
    } catch (err) {
      this.#log.warn({ err }, 'reading the event log failed; trying again');
      this.#pumpDelayMs = this.#opts.gapFillMs * 2;
      this.#pumpAgain = false; // back off below, not at tailReadIntervalMs
    } finally {
      this.#pumping = false;
      this.#lastPumpEnd = performance.now();
    }
    this.#releaseHeld(false);
    if (this.#pumpAgain) {
      this.#pumpAgain = false;
      this.#schedulePump(this.#opts.tailReadIntervalMs);
      return;
    }
    if (this.#pending.size === 0) {
      this.#pumpDelayMs = 0;
      return;
    }
    // Above the horizon: a transaction with a lower position is still open. Read again soon,
    // backing off (1 ms doubling) while it stays open.
    this.#pumpDelayMs = this.#dense
      ? this.#opts.gapFillMs
      : Math.min(Math.max(1, this.#pumpDelayMs * 2), this.#opts.gapFillMs * 4);
    this.#schedulePump(this.#pumpDelayMs);
  }

  /**
   * Delivers in order. An event for a conversation's members whose members the node does not
   * know yet waits (with every event after it) until they are read.
   */
  #deliver(org: OrgState, e: DomainEvent): void {
    if (this.#outbox.length > 0 || (e.audience === 'members' && !org.members.has(e.conversationId ?? ''))) {
      this.#outbox.push({ org, e });
      void this.#drainOutbox();
      return;
    }
    this.#deliverNow(org, e);
  }

  async #drainOutbox(): Promise<void> {
    if (this.#drainingOutbox) return;
    this.#drainingOutbox = true;
    try {
      while (this.#outbox.length > 0 && !this.#closing) {
        const { org, e } = this.#outbox[0]!;
        const id = e.conversationId ?? '';
        if (e.audience === 'members' && !org.members.has(id)) {
          try {
            const ids = await conversationMembers(this.#ctx, id);
            org.members.set(id, new Set(ids));
            if (org.members.size > MEMBER_CACHE_SIZE) org.members.delete(org.members.keys().next().value!);
          } catch (err) {
            this.#log.warn({ err }, 'reading the members of a conversation failed; trying again');
            await new Promise((r) => setTimeout(r, this.#opts.gapFillMs));
            continue;
          }
        }
        this.#outbox.shift();
        this.#deliverNow(org, e);
      }
    } finally {
      this.#drainingOutbox = false;
    }
  }

  #deliverNow(org: OrgState, e: DomainEvent): void {
    if (e.type === 'token.revoked' || e.type === 'actor.deactivated') this.#closeRevoked(org, e);
    if (e.type === 'org.suspended') {
      for (const set of org.clients.values())
        for (const client of set) client.socket.close(StreamClose.UNAUTHORIZED, 'org suspended');
    }
    if (e.conversationId && !keepsMembers(e.type)) org.members.delete(e.conversationId);
    let frame: string | null = null;
    for (const actorId of e.recipients) {
      const set = org.clients.get(actorId);
      if (!set) continue;
      frame ??= frameOf(e);
      for (const client of set) this.#deliverTo(client, e, frame);
    }
    if (e.audience !== 'members') return;
    const members = org.members.get(e.conversationId ?? '');
    if (!members) return;
    // Walk the smaller side: the conversation's members, or the org's sockets on this node.
    const each = (actorId: string) => {
      const set = org.clients.get(actorId);
      if (!set) return;
      frame ??= frameOf(e);
      for (const client of set) this.#deliverTo(client, e, frame);
    };
    if (members.size <= org.clients.size) for (const actorId of members) each(actorId);
    else for (const actorId of org.clients.keys()) if (members.has(actorId)) each(actorId);
  }

  #deliverTo(client: Client, e: DomainEvent, frame: string): void {
    if (client.buffer) {
      if (client.buffer.length >= this.#opts.maxCatchUpBuffer) {
        client.socket.close(StreamClose.RESYNC_REQUIRED, 'resync_required');
        return;
      }
      client.buffer.push(e);
      return;
    }
    if (e.seq !== 0) {
      if (e.seq <= client.sentUpTo) return;
      client.sentUpTo = e.seq;
    }
    this.#delivered++;
    this.#send(client, frame);
  }

  #send(client: Client, frame: string): void {
    const s = client.socket;
    if (s.readyState !== s.OPEN) return;
    if (s.bufferedAmount > this.#opts.maxBufferedBytes) {
      // A consumer that cannot keep up is closed instead of buffering without bound; it
      // reconnects with `since` and catches up from the database.
      s.close(StreamClose.SLOW_CONSUMER, 'slow consumer: reconnect with since');
      return;
    }
    s.send(frame);
  }

  #closeRevoked(org: OrgState, e: DomainEvent): void {
    const tokenId = typeof e.payload.token_id === 'string' ? e.payload.token_id : null;
    for (const actorId of e.recipients) {
      for (const client of org.clients.get(actorId) ?? []) {
        if (e.type === 'actor.deactivated' || client.principal.tokenId === tokenId) {
          client.socket.close(
            StreamClose.UNAUTHORIZED,
            e.type === 'token.revoked' ? 'token revoked' : 'actor deactivated',
          );
        }
      }
    }
  }

  /**
   * Counts an inbound frame against the socket's budget (a fixed one-second window). Past the
   * budget a frame is refused with a `rate_limited` error frame; at twice the budget the
   * socket is closed (4029), so a flood costs the server at most that many answers a second.
   */
  #allowFrame(client: Client, text: string): boolean {
    const now = Date.now();
    if (now - client.frameWindowAt >= 1000) {
      client.frameWindowAt = now;
      client.framesInWindow = 0;
    }
    client.framesInWindow += 1;
    const limit = this.#opts.maxFramesPerSecond;
    if (client.framesInWindow <= limit) return true;
    if (client.framesInWindow > 2 * limit) {
      if (client.socket.readyState === client.socket.OPEN)
        client.socket.close(StreamClose.TOO_MANY, 'rate_limited: too many frames');
      return false;
    }
    const retryAfterMs = Math.max(1, 1000 - (now - client.frameWindowAt));
    let clientId: unknown;
    try {
      clientId = (JSON.parse(text) as { client_id?: unknown } | null)?.client_id;
    } catch {
      clientId = undefined;
    }
    this.#send(
      client,
      JSON.stringify({
        type: 'error',
        code: 'rate_limited',
        message: `At most ${limit} frames a second; this one was not processed`,
        retry_after_ms: retryAfterMs,
        ...(typeof clientId === 'string' ? { client_id: clientId } : {}),
      }),
    );
    return false;
  }

  async #onMessage(client: Client, text: string): Promise<void> {
    let msg: Record<string, unknown>;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      msg = parsed as Record<string, unknown>;
    } catch {
      this.#send(
        client,
        JSON.stringify({ type: 'error', code: 'invalid_frame', message: 'Frames are JSON objects' }),
      );
      return;
    }
    const clientId = typeof msg.client_id === 'string' ? msg.client_id : undefined;
    const fail = (code: string, message: string) =>
      this.#send(
        client,
        JSON.stringify({ type: 'error', code, message, ...(clientId ? { client_id: clientId } : {}) }),
      );
    try {
      if (msg.type === 'send') {
        if (!client.principal.scopes.has('messages:write'))
          return fail('insufficient_scope', 'This token lacks messages:write');
        const { conversation_id: conversationId, text: body } = msg;
        if (!isId(conversationId)) {
          return fail('invalid_request', 'conversation_id must be a Parley id');
        }
        if (typeof body !== 'string' || body.length === 0 || body.length > 10_000) {
          return fail('invalid_request', 'text must be a string of 1 to 10000 characters');
        }
        if (body.includes('\u0000'))
          return fail('invalid_text', 'text must not contain the NUL character (\\u0000)');
        if (!clientId || !/^[\x21-\x7e]{1,128}$/.test(clientId)) {
          return fail(
            'invalid_request',
            'client_id (1-128 printable characters) is required to send over the stream',
          );
        }
        const { message, created } = await sendMessage(this.#ctx, client.principal, conversationId, {
          text: body,
          clientId,
        });
        this.#send(
          client,
          JSON.stringify({ type: 'ack', client_id: clientId, created, message: presentMessage(message) }),
        );
      } else if (msg.type === 'typing') {
        const conversationId = msg.conversation_id;
        if (!isId(conversationId)) {
          return fail('invalid_request', 'conversation_id must be a Parley id');
        }
        await startTyping(this.#ctx, client.principal, conversationId);
      } else if (msg.type === 'ping') {
        this.#send(client, JSON.stringify({ type: 'pong' }));
      } else {
        fail('unknown_frame', 'Frames are send, typing or ping');
      }
    } catch (err) {
      const e = toAppError(err);
      if (e.kind !== 'internal') return fail(e.code, e.message);
      this.#log.error({ err }, 'stream frame failed');
      fail('internal', 'Something went wrong on our side; the error was logged');
    }
  }

  #ping(): void {
    for (const org of this.#orgs.values()) {
      for (const set of org.clients.values()) {
        for (const client of set) {
          if (!client.alive) {
            client.socket.terminate();
            continue;
          }
          client.alive = false;
          client.socket.ping();
        }
      }
    }
  }

  /** Drains: tells every socket the server is going away and waits (bounded) for them to close. */
  async close(timeoutMs = 3_000): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pingTimer);
    clearInterval(this.#tailTimer);
    this.#unsubscribe();
    const sockets: WebSocket[] = [];
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    if (this.#heldTimer) clearTimeout(this.#heldTimer);
    for (const org of this.#orgs.values()) {
      for (const set of org.clients.values()) for (const c of set) sockets.push(c.socket);
    }
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.readyState === s.CLOSED) return resolve();
            const timer = setTimeout(() => {
              s.terminate();
              resolve();
            }, timeoutMs);
            s.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            s.close(StreamClose.GOING_AWAY, 'server shutting down');
          }),
      ),
    );
  }
}

/** `too_many_streams` (429): the actor or the org has as many sockets on this node as it may. */
export function tooManyStreams(per: 'actor' | 'org', limit: number): AppError {
  return new AppError(
    'rate_limited',
    'too_many_streams',
    `At most ${limit} stream sockets per ${per} on this server; close one and retry`,
    { retry_after_ms: 5_000, per, limit },
  );
}
