import Type from 'typebox';
import { DeletionJobStatus, MAX_JOB_CONVERSATION_IDS } from '../../domain/deletion-jobs.ts';

/** TypeBox schemas of the bot vendor's conversation deletion API (seed 004). */

export const BotParams = Type.Object({
  botId: Type.String({ minLength: 1, maxLength: 100, description: "The bot id: the org's slug" }),
});

export const JobParams = Type.Object({
  botId: BotParams.properties.botId,
  jobId: Type.String({ minLength: 1, maxLength: 100, description: 'The jobId the delete call answered' }),
});

export const AuthHeaders = Type.Object({
  auth: Type.Optional(
    Type.String({ description: "A JWT (HS256) signed with the app's secret, claim appId" }),
  ),
});

const DateText = Type.String({ maxLength: 32, description: 'YYYY-MM-DD, inclusive' });

export const DeleteBody = Type.Object(
  {
    conversationIds: Type.Optional(
      Type.Array(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer({ minimum: 1 })]), {
        maxItems: MAX_JOB_CONVERSATION_IDS,
        description: 'The conversations to delete',
      }),
    ),
    cId: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'A customer whose conversations to delete (their external id)',
      }),
    ),
    startDate: Type.Optional(DateText),
    endDate: Type.Optional(DateText),
    dryRun: Type.Optional(Type.Boolean({ description: 'Count what would be deleted; delete nothing' })),
  },
  { additionalProperties: false },
);

export const QueuedResponse = Type.Object({
  status: Type.Literal('queued'),
  jobId: Type.String(),
  message: Type.String(),
  submittedAt: Type.String({ format: 'date-time' }),
});

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const StatusResponse = Type.Object({
  jobId: Type.String(),
  status: Type.Enum([...DeletionJobStatus], { type: 'string' }),
  message: Type.String(),
  dryRun: Type.Boolean(),
  submittedAt: Type.String({ format: 'date-time' }),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  request: Type.Object({
    conversationIds: Type.Optional(Type.Array(Type.String())),
    cId: Type.Optional(Type.String()),
    startDate: Type.Optional(Type.String()),
    endDate: Type.Optional(Type.String()),
  }),
  progress: Type.Object({
    totalConversations: Type.Union([Type.Integer(), Type.Null()]),
    processedConversations: Type.Integer(),
  }),
  deleted: Type.Object({ conversations: Type.Integer(), messages: Type.Integer() }),
  skipped: Type.Object({ conversations: Type.Integer() }),
  error: Type.Union([Type.Object({ msg: Type.String(), code: Type.String() }), Type.Null()]),
});

export const ErrorResponse = Type.Object({
  errors: Type.Array(Type.Object({ msg: Type.String(), code: Type.Integer() })),
});
