/**
 * The durable floor's writer, shared by bench/floor-server.ts (HTTP) and bench/relay-server.ts
 * (the stream, when given a database): the least a server that acknowledges durable messages
 * can do, written directly on `node:sqlite` with statements prepared once, no framework, no
 * ORM, no validation, no authorization beyond what the statements check.
 *
 * Writes of one tick share one transaction; the WAL is fdatasync'ed on libuv's thread pool and
 * only then are the writers answered (Parley's group commit does the same, see
 * src/store/group-commit.ts). What arrives during a commit and its flush goes in the next one.
 *
 * Two modes:
 * - `minimal`: one row per message in a table of its own (primary key and one index).
 * - `parley`: the rows a Parley send writes, in Parley's schema (a database Parley created,
 *   opened after Parley stopped): the sender's membership check, the message (with its
 *   client-id conflict check), the other members' unread counts and activity, the sender's
 *   read position, the audience, the org's event counter and the event row, the
 *   conversation's last message, the webhook lookup. The same SQL as Parley's compiled hot path
 *   (`bench/diag-queries.ts` prints it), without Parley's code around it.
 */
import { open } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';

export interface FloorMessage {
  id: bigint;
  conversationId: bigint;
  /** In `parley` mode: the sender; null means the conversation's creator. */
  senderId: bigint | null;
  text: string;
  clientId: string | null;
  createdAt: number;
}

export interface FloorResult {
  /** `parley` mode: the conversation's current members (the event's recipients). */
  recipients: string[];
  seq: number;
}

interface Pending {
  message: FloorMessage;
  resolve: (r: FloorResult | Error) => void;
}

export async function openFloorWriter(path: string, mode: 'minimal' | 'parley') {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA busy_timeout = 5000');
  const write = mode === 'minimal' ? minimal(db) : parley(db);
  const wal = await open(`${path}-wal`, 'r+');
  let batch: Pending[] = [];
  let running = false;

  async function commit() {
    const items = batch;
    batch = [];
    db.exec('BEGIN');
    const results = items.map((item) => {
      try {
        return write(item.message);
      } catch (err) {
        return err as Error;
      }
    });
    db.exec('COMMIT');
    await wal.datasync();
    for (let i = 0; i < items.length; i++) items[i]!.resolve(results[i]!);
    if (batch.length > 0) setImmediate(commit);
    else running = false;
  }

  return {
    write(message: FloorMessage): Promise<FloorResult | Error> {
      return new Promise((resolve) => {
        batch.push({ message, resolve });
        if (!running) {
          running = true;
          setImmediate(commit);
        }
      });
    },
    close() {
      db.close();
      return wal.close();
    },
  };
}

/**
 * The PostgreSQL floor (`npm run bench -- --db postgres`): one durable INSERT per message, in
 * autocommit, through a `pg` Pool of `poolSize` connections (the size Parley's pool has), into
 * a table of its own with the `minimal` mode's columns and index. A prepared (named)
 * statement; durability is the cluster's (synchronous_commit on: each commit waits for its WAL
 * flush, concurrent commits share one, PostgreSQL's own group commit).
 */
export async function openPgFloorWriter(url: string, poolSize: number) {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  await pool.query(`CREATE TABLE IF NOT EXISTS floor_message (
    id bigint PRIMARY KEY, conversation_id bigint NOT NULL, sender_id bigint NOT NULL,
    text text NOT NULL, client_id text, created_at bigint NOT NULL)`);
  await pool.query(
    'CREATE INDEX IF NOT EXISTS floor_message_conversation ON floor_message (conversation_id, id)',
  );
  const text =
    'INSERT INTO floor_message (id, conversation_id, sender_id, text, client_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)';
  let seq = 0;
  return {
    async write(m: FloorMessage): Promise<FloorResult | Error> {
      try {
        await pool.query({
          name: 'floor_insert',
          text,
          values: [m.id, m.conversationId, m.senderId ?? 0n, m.text, m.clientId, m.createdAt],
        });
        return { recipients: [], seq: ++seq };
      } catch (err) {
        return err as Error;
      }
    },
    close: () => pool.end(),
  };
}

function minimal(db: DatabaseSync) {
  db.exec(`CREATE TABLE IF NOT EXISTS floor_message (
    id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL, sender_id INTEGER NOT NULL,
    text TEXT NOT NULL, client_id TEXT, created_at INTEGER NOT NULL)`);
  db.exec('CREATE INDEX IF NOT EXISTS floor_message_conversation ON floor_message (conversation_id, id)');
  const insert = db.prepare(
    'INSERT INTO floor_message (id, conversation_id, sender_id, text, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  let seq = 0;
  return (m: FloorMessage): FloorResult => {
    insert.run(m.id, m.conversationId, m.senderId ?? 0n, m.text, m.clientId, m.createdAt);
    return { recipients: [], seq: ++seq };
  };
}

function parley(db: DatabaseSync) {
  const conversation = db.prepare('SELECT org_id, creator_id FROM conversation WHERE id = ?');
  conversation.setReadBigInts(true);
  const access = db.prepare(
    'SELECT m.left_at FROM conversation AS c JOIN membership AS m ON m.conversation_id = c.id AND m.actor_id = ? WHERE c.org_id = ? AND c.id = ?',
  );
  const bump = db.prepare(
    'UPDATE conversation SET message_count = message_count + 1, last_message_id = ?, last_activity_at = ?, updated_at = ? WHERE id = ? RETURNING message_count',
  );
  const insertMessage = db.prepare(
    'INSERT INTO message (id, org_id, conversation_id, sender_id, type, text, metadata, reply_to_id, client_id, created_at, edited_at, deleted_at, ordinal) ' +
      "VALUES (?, ?, ?, ?, 'text', ?, NULL, NULL, ?, ?, NULL, NULL, ?) ON CONFLICT (org_id, sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING",
  );
  const sender = db.prepare(
    'UPDATE membership SET read_message_id = ?, read_ordinal = ?, unread_excluded = 0, hidden = 0, draft = NULL, draft_updated_at = NULL WHERE conversation_id = ? AND actor_id = ? AND left_at IS NULL',
  );
  const audience = db.prepare(
    'SELECT actor_id FROM membership WHERE conversation_id = ? AND left_at IS NULL',
  );
  audience.setReadBigInts(true);
  const event = db.prepare(
    "INSERT INTO event (org_id, type, conversation_id, recipients, payload, created_at) VALUES (?, 'message.created', ?, ?, ?, ?) RETURNING seq",
  );
  const webhooks = db.prepare('SELECT * FROM webhook WHERE org_id = ? AND active = 1');
  const conversations = new Map<bigint, { orgId: bigint; creatorId: bigint }>();

  return (m: FloorMessage): FloorResult => {
    let c = conversations.get(m.conversationId);
    if (!c) {
      const row = conversation.get(m.conversationId) as { org_id: bigint; creator_id: bigint } | undefined;
      if (!row) throw new Error('no such conversation');
      c = { orgId: row.org_id, creatorId: row.creator_id };
      conversations.set(m.conversationId, c);
    }
    const senderId = m.senderId ?? c.creatorId;
    const member = access.get(senderId, c.orgId, m.conversationId) as { left_at: number | null } | undefined;
    if (!member || member.left_at !== null) throw new Error('not a member');
    const ordinal = Number(
      (bump.get(m.id, m.createdAt, m.createdAt, m.conversationId) as { message_count: number }).message_count,
    );
    const inserted = insertMessage.run(
      m.id,
      c.orgId,
      m.conversationId,
      senderId,
      m.text,
      m.clientId,
      m.createdAt,
      ordinal,
    ).changes;
    if (inserted !== 1) throw new Error('duplicate client id');
    sender.run(m.id, ordinal, m.conversationId, senderId);
    const recipients = (audience.all(m.conversationId) as { actor_id: bigint }[]).map((r) =>
      String(r.actor_id),
    );
    const payload = JSON.stringify({
      id: String(m.id),
      conversation_id: String(m.conversationId),
      sender_id: String(senderId),
      type: 'text',
      text: m.text,
      client_id: m.clientId,
      created_at: new Date(m.createdAt).toISOString(),
    });
    const seq = Number(
      (
        event.get(c.orgId, m.conversationId, JSON.stringify(recipients), payload, m.createdAt) as {
          seq: number;
        }
      ).seq,
    );
    webhooks.all(c.orgId);
    return { recipients, seq };
  };
}
