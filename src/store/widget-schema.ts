import type { Kysely } from 'kysely';
import type { Database, Db } from './schema.ts';

/**
 * Table types of the widget migration (2026-12-05T00-00-widget), kept apart from schema.ts so
 * the widget's store code reads them as `widgetDb(db)`. Same conventions: ids are decimal
 * strings, times epoch ms, flags 0/1, lists and objects JSON text.
 */
export interface WidgetTable {
  id: string;
  org_id: string;
  public_key: string;
  secret: string;
  name: string;
  allowed_origins: string;
  department_ids: string;
  prechat: string;
  greeting: string;
  offline_message: string;
  colour: string;
  created_at: number;
  updated_at: number;
}

export interface WidgetSessionTable {
  token_hash: string;
  org_id: string;
  widget_id: string;
  visitor_id: string;
  created_at: number;
  expires_at: number;
}

export interface WidgetChatTable {
  conversation_id: string;
  org_id: string;
  widget_id: string;
  visitor_id: string;
  page_url: string | null;
  email: string | null;
  offline: number;
  created_at: number;
}

export interface OperatorAvailabilityTable {
  actor_id: string;
  org_id: string;
  status: string;
  updated_at: number;
}

export interface CannedResponseTable {
  id: string;
  org_id: string;
  shortcut: string;
  title: string;
  text: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface WidgetDatabase extends Database {
  widget: WidgetTable;
  widget_session: WidgetSessionTable;
  widget_chat: WidgetChatTable;
  operator_availability: OperatorAvailabilityTable;
  canned_response: CannedResponseTable;
}

export type WDb = Kysely<WidgetDatabase>;

/** The same handle (a connection or a transaction), typed with the widget's tables too. */
export const widgetDb = (db: Db): WDb => db as unknown as WDb;
