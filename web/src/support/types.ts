/** The shapes of the operators' workspace API (docs/widget.md, "The operators' side"). */

export interface QueueCount {
  department: { id: string; name: string };
  waiting: number;
  available_operators: number;
}

export interface ChatListItem {
  id: string;
  reference_id: string;
  title: string | null;
  state: 'waiting' | 'connected' | 'ended' | 'missed';
  question: string | null;
  department: { id: string; name: string } | null;
  visitor: { id: string; name: string; email: string | null } | null;
  attender: { id: string; name: string } | null;
  page_url: string | null;
  offline: boolean;
  created_at: string;
  attended_at: string | null;
  ended_at: string | null;
  missed_at: string | null;
}

export interface VisitorPanelData {
  conversation_id: string;
  title: string | null;
  state: ChatListItem['state'];
  visitor: {
    id: string;
    name: string;
    email: string | null;
    phone: string | null;
    ip: string | null;
    country: string | null;
    external_id: string | null;
    verified: boolean;
  } | null;
  department: { id: string; name: string } | null;
  page_url: string | null;
  widget: { id: string; name: string } | null;
  offline: boolean;
  contact_email: string | null;
  previous_chats: {
    id: string;
    reference_id: string;
    state: ChatListItem['state'];
    question: string;
    department_id: string;
    created_at: string;
    ended_at: string | null;
    missed_at: string | null;
  }[];
}

export interface Availability {
  actor_id: string;
  name: string;
  role: string;
  status: 'available' | 'away';
  updated_at: string | null;
  open_chats: number;
}

export interface CannedResponse {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export type FieldMode = 'required' | 'optional' | 'hidden';

export interface Widget {
  id: string;
  public_key: string;
  secret: string;
  name: string;
  allowed_origins: string[];
  department_ids: string[];
  prechat: { name: FieldMode; email: FieldMode; question: FieldMode };
  greeting: string;
  offline_message: string;
  colour: string;
  embed_snippet: string;
  created_at: string;
  updated_at: string | null;
}
