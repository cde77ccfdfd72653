import { migrateToLatest } from '../store/migrate.ts';
import { type Invocation, printJson } from './spec.ts';
import { withStore } from './store.ts';

/** `parley migrate`: the store and the migrations only. */
export async function migrate({ values, config }: Invocation): Promise<undefined> {
  const result = await withStore(config, (store) => migrateToLatest(store.db));
  const applied = result.results?.map((r) => r.migrationName) ?? [];
  if (values.json) printJson({ applied });
  else process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date.\n');
  return undefined;
}
