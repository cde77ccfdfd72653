import Type from 'typebox';
import { SupportState } from '../../domain/model.ts';
import { Availability, FieldMode, MAX_ORIGINS, MAX_WIDGET_DEPARTMENTS } from '../../domain/widget.ts';
import { IdInput, IdString, literals, Nullable, Timestamp } from '../schemas.ts';

/** Schemas of the widget, the visitor endpoints and the operators' workspace. */

const Origin = Type.String({
  minLength: 1,
  maxLength: 300,
  description: 'An origin: http(s)://host[:port], no path',
});
const Colour = Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb' });
const Mode = literals(FieldMode);

export const PrechatSchema = Type.Object(
  { name: Mode, email: Mode, question: Mode },
  { description: 'Each pre-chat field: required, optional, or hidden (not asked)' },
);
const PrechatPatch = Type.Partial(PrechatSchema, { additionalProperties: false });

const widgetFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  allowed_origins: Type.Array(Origin, {
    maxItems: MAX_ORIGINS,
    description: 'Pages on these origins may embed the widget; any other is refused',
  }),
  department_ids: Type.Array(IdInput, {
    minItems: 1,
    maxItems: MAX_WIDGET_DEPARTMENTS,
    description: 'Departments offered to visitors, in this order (the first is the default)',
  }),
  prechat: PrechatPatch,
  greeting: Type.String({ maxLength: 500 }),
  offline_message: Type.String({ maxLength: 1000 }),
  colour: Colour,
};

export const WidgetCreateBody = Type.Object(
  {
    name: Type.Optional(widgetFields.name),
    allowed_origins: widgetFields.allowed_origins,
    department_ids: widgetFields.department_ids,
    prechat: Type.Optional(widgetFields.prechat),
    greeting: Type.Optional(widgetFields.greeting),
    offline_message: Type.Optional(widgetFields.offline_message),
    colour: Type.Optional(widgetFields.colour),
  },
  { additionalProperties: false },
);

export const WidgetPatchBody = Type.Object(
  {
    name: Type.Optional(widgetFields.name),
    allowed_origins: Type.Optional(widgetFields.allowed_origins),
    department_ids: Type.Optional(widgetFields.department_ids),
    prechat: Type.Optional(widgetFields.prechat),
    greeting: Type.Optional(widgetFields.greeting),
    offline_message: Type.Optional(widgetFields.offline_message),
    colour: Type.Optional(widgetFields.colour),
    rotate_secret: Type.Optional(
      Type.Boolean({
        description: 'Issue a new identity secret; signatures made with the old one stop working',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const WidgetSchema = Type.Object({
  id: IdString,
  public_key: Type.String({ description: 'Goes in the embed snippet (data-key); public' }),
  secret: Type.String({ description: 'Signs known customers (identity HMAC); keep it on your server' }),
  name: Type.String(),
  allowed_origins: Type.Array(Type.String()),
  department_ids: Type.Array(IdString),
  prechat: PrechatSchema,
  greeting: Type.String(),
  offline_message: Type.String(),
  colour: Type.String(),
  embed_snippet: Type.String({ description: 'The script tag to paste into your pages' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

/* The visitor's side */

export const WidgetDepartment = Type.Object({
  id: IdString,
  name: Type.String(),
  online: Type.Boolean({ description: 'Open by its hours and an available operator serves it now' }),
  open: Type.Boolean({ description: 'Open by its opening hours now (always true without hours)' }),
  opens_at: Nullable(Timestamp),
  closes_at: Nullable(Timestamp),
});

export const PublicWidgetSchema = Type.Object({
  key: Type.String(),
  name: Type.String(),
  greeting: Type.String(),
  offline_message: Type.String(),
  colour: Type.String(),
  prechat: PrechatSchema,
  departments: Type.Array(WidgetDepartment),
  online: Type.Boolean({ description: 'Some department of the widget is online' }),
});

export const VisitorSchema = Type.Object({
  id: IdString,
  name: Type.String(),
  email: Nullable(Type.String()),
  external_id: Nullable(Type.String({ description: 'Set for signed (known) customers' })),
});

export const SessionBody = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 100, description: "The widget's public key" }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
    identity: Type.Optional(
      Type.Object(
        {
          user_id: Type.String({ minLength: 1, maxLength: 128, description: "Your site's id of the user" }),
          signature: Type.String({
            pattern: '^[0-9a-fA-F]{64}$',
            description: 'Hex HMAC-SHA256 of user_id with the widget secret, computed on your server',
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const SessionSchema = Type.Object({
  token: Type.String({
    description: 'The visitor credential (Bearer); keep it in the browser, never in a URL',
  }),
  expires_at: Timestamp,
  visitor: VisitorSchema,
});

export const VisitorChatSchema = Type.Object({
  id: IdString,
  reference_id: Type.String(),
  state: literals(SupportState),
  department: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  operator: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  page_url: Nullable(Type.String()),
  offline: Type.Boolean({ description: 'Left as a message while nobody could answer' }),
  operator_read_message_id: Nullable(IdString),
  visitor_read_message_id: Nullable(IdString),
  created_at: Timestamp,
  ended_at: Nullable(Timestamp),
});

export const VisitorHomeSchema = Type.Object({
  visitor: VisitorSchema,
  widget: PublicWidgetSchema,
  chat: Nullable(VisitorChatSchema),
});

export const StartChatBody = Type.Object(
  {
    department_id: Type.Optional(IdInput),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
    question: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    page_url: Type.Optional(Type.String({ maxLength: 2000, pattern: '^https?://' })),
  },
  { additionalProperties: false },
);

export const OfflineBody = Type.Object(
  {
    department_id: Type.Optional(IdInput),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    email: Type.String({ format: 'email', maxLength: 200 }),
    message: Type.String({ minLength: 1, maxLength: 4000 }),
    page_url: Type.Optional(Type.String({ maxLength: 2000, pattern: '^https?://' })),
  },
  { additionalProperties: false },
);

export const VisitorMessageSchema = Type.Object({
  id: IdString,
  text: Nullable(Type.String({ description: 'Plain text: render it as text, never as HTML' })),
  sender: Type.Object({ id: IdString, name: Type.String(), kind: Type.String() }),
  mine: Type.Boolean(),
  created_at: Timestamp,
  edited_at: Nullable(Timestamp),
  deleted_at: Nullable(Timestamp),
});

/* The operators' workspace */

export const AvailabilitySchema = Type.Object({
  actor_id: IdString,
  name: Type.String(),
  role: Type.String(),
  status: literals(Availability),
  updated_at: Nullable(Timestamp),
  open_chats: Type.Integer({ description: 'Connected chats they attend' }),
});

export const AvailabilityBody = Type.Object(
  { status: literals(Availability) },
  { additionalProperties: false },
);

export const QueueCountSchema = Type.Object({
  department: Type.Object({ id: IdString, name: Type.String() }),
  waiting: Type.Integer(),
  available_operators: Type.Integer(),
});

const ChatSummary = Type.Object({
  id: IdString,
  reference_id: Type.String(),
  state: literals(SupportState),
  question: Type.String(),
  department_id: IdString,
  created_at: Timestamp,
  ended_at: Nullable(Timestamp),
  missed_at: Nullable(Timestamp),
});

export const VisitorPanelSchema = Type.Object({
  conversation_id: IdString,
  title: Nullable(Type.String()),
  state: literals(SupportState),
  visitor: Nullable(
    Type.Object({
      id: IdString,
      name: Type.String(),
      email: Nullable(Type.String()),
      phone: Nullable(Type.String()),
      ip: Nullable(Type.String()),
      country: Nullable(Type.String()),
      external_id: Nullable(Type.String()),
      verified: Type.Boolean({ description: 'A signed identity (external id) from the site' }),
    }),
  ),
  department: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  page_url: Nullable(Type.String({ description: 'The page the chat started on' })),
  widget: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  offline: Type.Boolean({ description: 'Left as a message while nobody could answer' }),
  contact_email: Nullable(Type.String({ description: 'Where the transcript goes' })),
  previous_chats: Type.Array(ChatSummary, {
    description: "The visitor's other chats, newest first (up to 20)",
  }),
});

export const CannedSchema = Type.Object({
  id: IdString,
  shortcut: Type.String({ description: 'Typed as /shortcut in the composer' }),
  title: Type.String(),
  text: Type.String(),
  created_by: Nullable(IdString),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const Shortcut = Type.String({
  minLength: 1,
  maxLength: 33,
  description: 'a-z, 0-9, _ and -; a leading / is dropped',
});

export const CannedCreateBody = Type.Object(
  {
    shortcut: Shortcut,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    text: Type.String({ minLength: 1, maxLength: 5000 }),
  },
  { additionalProperties: false },
);

export const CannedPatchBody = Type.Object(
  {
    shortcut: Type.Optional(Shortcut),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 5000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ChatListItemSchema = Type.Object({
  id: IdString,
  reference_id: Type.String(),
  title: Nullable(Type.String({ description: "The visitor's name when the chat started" })),
  state: literals(SupportState),
  question: Type.String(),
  department: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  visitor: Nullable(Type.Object({ id: IdString, name: Type.String(), email: Nullable(Type.String()) })),
  attender: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  page_url: Nullable(Type.String()),
  offline: Type.Boolean({ description: 'Left as a message while nobody could answer' }),
  created_at: Timestamp,
  attended_at: Nullable(Timestamp),
  ended_at: Nullable(Timestamp),
  missed_at: Nullable(Timestamp),
});
