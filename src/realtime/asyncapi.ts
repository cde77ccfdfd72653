import { EventType } from '../domain/events.ts';

/**
 * The AsyncAPI 3 description of `/v1/stream` (served at /asyncapi.json, copied to the client
 * package by `npm run gen:client`; validated by test/unit/asyncapi.test.ts with
 * @asyncapi/parser). Hand-written: docs/api.md ("The realtime stream") says the same in prose,
 * and the gateway (gateway.ts) is what sends these frames. The application described is the
 * server: `send` operations are frames it sends, `receive` those it accepts.
 */
const seq = { type: 'integer', minimum: 0, description: 'Position in the event log (0: an ephemeral event)' };
const id = { type: 'string', pattern: '^[0-9]{1,19}$', description: 'A Parley id (decimal string)' };
const clientId = { type: 'string', minLength: 1, maxLength: 128, description: 'Your id of the send' };

const schemas = {
  ReadyFrame: {
    type: 'object',
    required: ['type', 'seq'],
    properties: {
      type: { const: 'ready' },
      seq: { ...seq, description: 'Caught up to here: live events follow' },
    },
  },
  EventFrame: {
    type: 'object',
    required: ['type', 'seq', 'event', 'conversation_id', 'data', 'at'],
    properties: {
      type: { const: 'event' },
      seq,
      event: { type: 'string', enum: [...EventType] },
      conversation_id: { oneOf: [id, { type: 'null' }] },
      data: {
        type: 'object',
        additionalProperties: true,
        description:
          "The event's payload in the native API's shapes: `message` (a Message) for message.*, " +
          '`actor_id` and `actor_name` for typing.started, the support chat for support.*, and so on',
      },
      at: { type: 'string', format: 'date-time' },
    },
  },
  AckFrame: {
    type: 'object',
    required: ['type', 'client_id', 'created', 'message'],
    properties: {
      type: { const: 'ack' },
      client_id: clientId,
      created: { type: 'boolean', description: 'false when this client_id was sent before' },
      message: { type: 'object', additionalProperties: true, description: 'The stored Message' },
    },
  },
  ErrorFrame: {
    type: 'object',
    required: ['type', 'code'],
    properties: {
      type: { const: 'error' },
      code: {
        type: 'string',
        description: 'resync_required, invalid_since, invalid_frame, rate_limited, database_unavailable, …',
      },
      message: { type: 'string' },
      client_id: clientId,
    },
  },
  PongFrame: { type: 'object', required: ['type'], properties: { type: { const: 'pong' } } },
  SendFrame: {
    type: 'object',
    required: ['type', 'conversation_id', 'text', 'client_id'],
    properties: {
      type: { const: 'send' },
      conversation_id: id,
      text: { type: 'string', minLength: 1, maxLength: 10_000 },
      client_id: clientId,
    },
  },
  TypingFrame: {
    type: 'object',
    required: ['type', 'conversation_id'],
    properties: { type: { const: 'typing' }, conversation_id: id },
  },
  PingFrame: { type: 'object', required: ['type'], properties: { type: { const: 'ping' } } },
} as const;

type FrameName = keyof typeof schemas;
const message = (name: FrameName, summary: string) => ({
  name,
  title: name,
  summary,
  contentType: 'application/json',
  payload: { $ref: `#/components/schemas/${name}` },
});

const messages = {
  ready: message('ReadyFrame', 'Caught up: every missed event was sent'),
  event: message('EventFrame', 'An event the caller may see'),
  ack: message('AckFrame', 'A send was stored'),
  error: message('ErrorFrame', 'A frame was refused, or the stream must close (see the close codes)'),
  pong: message('PongFrame', 'The answer to a ping'),
  send: message('SendFrame', 'Send a message (needs messages:write)'),
  typing: message('TypingFrame', 'Tell the conversation you are typing'),
  ping: message('PingFrame', 'Ask for a pong'),
} as const;

const channelMessage = (name: keyof typeof messages) => ({ $ref: `#/channels/stream/messages/${name}` });

export const asyncApiDocument = {
  asyncapi: '3.0.0',
  info: {
    title: 'Parley realtime stream',
    version: '1',
    description:
      'GET /v1/stream upgrades to a WebSocket that pushes every event the caller may see, in position order. ' +
      'Reconnect with `?since=<last seq>` to receive exactly what was missed, then live events. ' +
      'Close codes: 4001 token revoked (or actor deactivated, org suspended), 4008 slow consumer, 4009 resync required, 4029 too many frames, ' +
      '4400 bad request, 1001 server shutting down, 1013 try again later.',
    license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
  },
  defaultContentType: 'application/json',
  servers: {
    parley: {
      host: 'localhost:8080',
      protocol: 'ws',
      description: 'A Parley server (wss behind TLS)',
      security: [{ $ref: '#/components/securitySchemes/bearer' }],
    },
  },
  channels: {
    stream: {
      address: '/v1/stream',
      title: 'The realtime stream',
      messages,
      bindings: {
        ws: {
          method: 'GET',
          query: {
            type: 'object',
            properties: {
              since: { type: 'integer', minimum: 0, description: 'The last seq seen: catch up from there' },
              access_token: { type: 'string', maxLength: 200, description: 'A token (prefer the header)' },
            },
          },
        },
      },
    },
  },
  operations: {
    receiveFrames: {
      action: 'send',
      title: 'Frames the server sends',
      channel: { $ref: '#/channels/stream' },
      messages: (['ready', 'event', 'ack', 'error', 'pong'] as const).map(channelMessage),
    },
    sendFrames: {
      action: 'receive',
      title: 'Frames a client may send',
      channel: { $ref: '#/channels/stream' },
      messages: (['send', 'typing', 'ping'] as const).map(channelMessage),
    },
  },
  components: {
    schemas,
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description:
          'A token with messages:read: the Authorization header, the subprotocols `parley, bearer.<token>`, or ?access_token=',
      },
    },
  },
} as const;
