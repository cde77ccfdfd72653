import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { SqliteConnection } from './db.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** Stands in for a parameter while a prepared query is built; replaced by the argument of that name. */
class Slot {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

/** The placeholders a prepared query's builder receives: `p.id` is the argument `id`. */
export type Slots<K extends string> = { readonly [P in K]: any };

interface Compiled {
  query: CompiledQuery<unknown>;
  /** For each parameter of the compiled SQL: the argument's name, or the constant it was built with. */
  params: ({ arg: string } | { value: unknown })[];
}

export interface Prepared<K extends string, R> {
  /** Runs the query on `db` (a transaction or the database) with these arguments; the rows. */
  execute(db: Db, args: Readonly<Record<K, unknown>>): Promise<R[]>;
  /** Runs a write without RETURNING; how many rows it inserted, updated or deleted. */
  run(db: Db, args: Readonly<Record<K, unknown>>): Promise<number>;
}

/**
 * Connections on which prepared queries skip Kysely's executor: the group commit's held
 * SQLite connection while its batch runs (see `runDirectOn`).
 */
const direct = new WeakMap<Db, SqliteConnection>();

/**
 * While `fn` runs, prepared queries on `db` (a Kysely bound to the one SQLite connection, held
 * by the caller for the whole of `fn`) call the connection's statements directly instead of
 * going through Kysely's executor, connection provider and driver: the same statement and
 * parameters, without their promise hops. Only for a connection nothing else can use
 * meanwhile (Kysely's provider would make other callers wait for it anyway).
 */
export async function runDirectOn<T>(db: Db, connection: SqliteConnection, fn: () => Promise<T>): Promise<T> {
  direct.set(db, connection);
  try {
    return await fn();
  } finally {
    direct.delete(db);
  }
}

/**
 * A query written with Kysely's typed builder but built and compiled ONCE per dialect, then
 * executed with new arguments: the hot paths (sending a message) skip Kysely's per-call
 * building and compiling, which cost about a third of a send's CPU, and the SQL text is the
 * same string every time, so the SQLite statement cache finds it without rehashing.
 *
 * The builder receives placeholders (`p.name`) where arguments go; constants stay constants.
 * Kysely has no public "prepare" API, so the placeholders are recognized among the compiled
 * query's parameters, which it keeps in the order the SQL uses them on every dialect.
 */
export function prepared<K extends string, R>(build: (db: Db, p: Slots<K>) => Compilable<R>): Prepared<K, R> {
  const slots = new Proxy({} as Slots<K>, { get: (_target, name) => new Slot(String(name)) });
  // One compilation per dialect adapter (SQLite's `?` and PostgreSQL's `$1` differ); transactions
  // and savepoints share their database's adapter.
  const byAdapter = new WeakMap<object, Compiled>();
  const compiledFor = (db: Db): Compiled => {
    const adapter = db.getExecutor().adapter;
    let compiled = byAdapter.get(adapter);
    if (!compiled) {
      const query = build(db, slots).compile() as CompiledQuery<unknown>;
      compiled = {
        query,
        params: query.parameters.map((v) => (v instanceof Slot ? { arg: v.name } : { value: v })),
      };
      byAdapter.set(adapter, compiled);
    }
    return compiled;
  };
  const executeWith = (
    db: Db,
    args: Readonly<Record<K, unknown>>,
  ): Promise<QueryResult<R>> | QueryResult<R> => {
    const compiled = compiledFor(db);
    const parameters = compiled.params.map((p) => ('arg' in p ? args[p.arg as K] : p.value));
    const connection = direct.get(db);
    if (connection) {
      // What Kysely's SqliteDriver does with the statement, minus the executor around it.
      const statement = connection.prepare(compiled.query.sql);
      if (statement.reader) return { rows: statement.all(parameters) as R[] };
      return { rows: [], numAffectedRows: BigInt(statement.run(parameters).changes) };
    }
    return db.executeQuery<R>({ ...(compiled.query as CompiledQuery<R>), parameters });
  };
  return {
    async execute(db, args) {
      return (await executeWith(db, args)).rows;
    },
    async run(db, args) {
      return Number((await executeWith(db, args)).numAffectedRows ?? 0n);
    },
  };
}
