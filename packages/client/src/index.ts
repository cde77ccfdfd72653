export { createParleyClient, type ParleyClient, type ParleyClientOptions, type paths } from './rest.ts';
export {
  type AckFrame,
  type ClientFrame,
  connectStream,
  type ErrorFrame,
  type EventFrame,
  type EventName,
  ParleyStream,
  type ParleyStreamOptions,
  type PingFrame,
  type PongFrame,
  type ReadyFrame,
  type SendFrame,
  type ServerFrame,
  type TypingFrame,
} from './stream.ts';
