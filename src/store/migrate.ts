import type { Kysely } from 'kysely';
import { type Migration, type MigrationResultSet, Migrator } from 'kysely/migration';
import * as core from './migrations/2026-11-21T00-00-core.ts';
import * as eventsApps from './migrations/2026-11-21T01-00-events-apps.ts';
import * as support from './migrations/2026-11-21T02-00-support.ts';
import * as jobsWebhooks from './migrations/2026-11-21T03-00-jobs-webhooks.ts';
import * as eventPositions from './migrations/2026-12-04T00-00-event-positions.ts';
import * as unreadCounters from './migrations/2026-12-04T01-00-unread-counters.ts';
import * as deliveryMessage from './migrations/2026-12-04T02-00-delivery-message.ts';
import * as messageSearch from './migrations/2026-12-04T03-00-message-search.ts';
import * as widget from './migrations/2026-12-05T00-00-widget.ts';
import * as teamChat from './migrations/2026-12-05T01-00-team-chat.ts';
import * as attachments from './migrations/2026-12-05T02-00-attachments.ts';
import * as orgAdmin from './migrations/2026-12-05T03-00-org-admin.ts';
import * as storageSearchVocab from './migrations/2026-12-06T01-00-storage-search-vocab.ts';
import * as supportServer from './migrations/2026-12-06T01-00-support-server.ts';
import * as leanSendIndexes from './migrations/2026-12-06T02-00-lean-send-indexes.ts';
import * as leanEventIndexes from './migrations/2026-12-07T00-00-lean-event-indexes.ts';
import * as searchIndexPerCommit from './migrations/2026-12-07T01-00-search-index-per-commit.ts';

/** Every migration, by name; names sort in the order they must run (ISO timestamps). */
const migrations: Record<string, Migration> = {
  '2026-11-21T00-00-core': core,
  '2026-11-21T01-00-events-apps': eventsApps,
  '2026-11-21T02-00-support': support,
  '2026-11-21T03-00-jobs-webhooks': jobsWebhooks,
  '2026-12-04T00-00-event-positions': eventPositions,
  '2026-12-04T01-00-unread-counters': unreadCounters,
  '2026-12-04T02-00-delivery-message': deliveryMessage,
  '2026-12-04T03-00-message-search': messageSearch,
  '2026-12-05T00-00-widget': widget,
  '2026-12-05T01-00-team-chat': teamChat,
  '2026-12-05T02-00-attachments': attachments,
  '2026-12-05T03-00-org-admin': orgAdmin,
  '2026-12-06T01-00-support-server': supportServer,
  '2026-12-06T02-00-lean-send-indexes': leanSendIndexes,
  '2026-12-06T01-00-storage-search-vocab': storageSearchVocab,
  '2026-12-07T00-00-lean-event-indexes': leanEventIndexes,
  '2026-12-07T01-00-search-index-per-commit': searchIndexPerCommit,
};

/** Brings the schema to the latest version. Safe to run on every start and from several nodes. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
