import Type from 'typebox';
import { IdString, Nullable, Timestamp } from '../schemas.ts';

/** API apps of the signed server dialect (presented by http/present/apps.ts). */
export const AppSchema = Type.Object({
  id: IdString,
  app_id: Type.Integer({ description: 'The public AppId of the signed server dialect (/compat/zim)' }),
  name: Type.String(),
  created_at: Timestamp,
  revoked_at: Nullable(Timestamp),
});
export const CreatedAppSchema = Type.Object({
  ...AppSchema.properties,
  server_secret: Type.String({ description: 'Shown only in this response' }),
});
