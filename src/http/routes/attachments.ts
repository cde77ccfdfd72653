import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import {
  getAttachment,
  readAttachment,
  resolveLink,
  signLink,
  uploadAttachment,
  type Variant,
} from '../../services/attachments.ts';
import { principalOf } from '../auth.ts';
import { contentDisposition, presentAttachment } from '../present/attachments.ts';
import { AttachmentRefSchema } from '../schemas/attachments.ts';
import { ConversationIdParams, commonErrors, IdString, readErrors, Timestamp } from '../schemas.ts';
import { type Api, typed } from './util.ts';

const tags = ['attachments'];

const AttachmentSchema = Type.Object({
  ...AttachmentRefSchema.properties,
  conversation_id: Type.Union([IdString, Type.Null()]),
  message_id: Type.Union([IdString, Type.Null()], { description: 'Null until a message carries it' }),
  created_at: Timestamp,
  attached_at: Type.Union([Timestamp, Type.Null()]),
});
const IdParams = Type.Object({ id: IdString });
const VariantQuery = Type.Union([Type.Literal('original'), Type.Literal('preview')], {
  description: 'original (default) or preview (images: WebP, at most 480 px, no metadata)',
});

/**
 * Attachments: upload the bytes (the body as is, any Content-Type; the type is sniffed), then
 * send a message with `attachments: [id, …]`. Downloads: `GET /attachments/{id}/content` with
 * the bearer token, or `GET /files/{id}` through a signed link from `/link` that works for 5
 * minutes without one (for <img> tags, which cannot send a header).
 */
export function attachmentRoutes(app: Api, ctx: AppContext): void {
  app.register(async (raw) => {
    // Upload bodies are bytes, whatever Content-Type the client says (it is not trusted anyway).
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    typed(raw).post(
      '/conversations/:id/attachments',
      {
        config: { scope: 'messages:write' },
        bodyLimit: ctx.config.attachmentMaxBytes,
        schema: {
          tags,
          summary: 'Upload a file to attach to a message',
          description:
            "The body is the file itself (any Content-Type; the type is sniffed from the bytes). Answers an upload id: send it in a message's attachments within a day, or it is removed. Only members who may post can upload.",
          params: ConversationIdParams,
          querystring: Type.Object(
            {
              name: Type.Optional(
                Type.String({
                  maxLength: 1024,
                  description: 'The file name (required; no path, at most 255 characters)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 201: AttachmentSchema, ...commonErrors },
        },
      },
      async (req, reply) => {
        const body = req.body as unknown;
        const bytes = body instanceof Uint8Array ? body : new Uint8Array();
        const row = await uploadAttachment(ctx, principalOf(req), {
          conversationId: req.params.id,
          name: req.query.name,
          bytes,
        });
        return reply.code(201).send(presentAttachment(row));
      },
    );
  });

  const r = typed(app);
  r.get(
    '/attachments/:id',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags,
        summary: 'Get an attachment',
        description: 'Of a message you can read, or your own upload not yet sent.',
        params: IdParams,
        response: { 200: AttachmentSchema, ...readErrors },
      },
    },
    async (req) => presentAttachment(await getAttachment(ctx, principalOf(req), req.params.id)),
  );

  r.get(
    '/attachments/:id/link',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags,
        summary: 'A download link that works for 5 minutes without the token',
        description:
          'For <img> tags and plain links, which cannot send the bearer token. Access is checked now; the link stops working when it expires or the message is deleted.',
        params: IdParams,
        querystring: Type.Object({ variant: Type.Optional(VariantQuery) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ url: Type.String(), expires_at: Timestamp }),
          ...readErrors,
        },
      },
    },
    async (req) => {
      const row = await getAttachment(ctx, principalOf(req), req.params.id);
      const variant: Variant = req.query.variant ?? 'original';
      if (variant === 'preview' && !row.preview_key) await readAttachment(ctx, row, 'preview');
      const link = signLink(ctx, row, variant);
      return { url: link.url, expires_at: new Date(link.expiresAt).toISOString() };
    },
  );

  r.get(
    '/attachments/:id/content',
    {
      config: { scope: 'messages:read', produces: PRODUCES },
      schema: {
        tags,
        summary: 'Download an attachment (or its preview)',
        description:
          'Raster images are served inline; everything else (SVG and HTML included) as Content-Disposition: attachment. Always X-Content-Type-Options: nosniff. For <img> tags, which cannot send the token, use a link from /link.',
        params: IdParams,
        querystring: Type.Object({ variant: Type.Optional(VariantQuery) }, { additionalProperties: false }),
        response: { 200: BYTES, ...readErrors },
      },
    },
    async (req, reply) => {
      const row = await getAttachment(ctx, principalOf(req), req.params.id);
      return sendFile(reply, await readAttachment(ctx, row, req.query.variant ?? 'original'));
    },
  );
}

/**
 * `GET /files/{id}`: the target of a signed link (GET /v1/attachments/{id}/link), outside /v1
 * because it takes no bearer token: the signature (HMAC of id, variant and expiry) is the
 * credential, checked, like the expiry and that the message is still there, on every request.
 */
export function signedFileRoutes(app: Api, ctx: AppContext): void {
  typed(app).get(
    '/files/:id',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Download through a signed link (no token)',
        description:
          'The URL comes from GET /v1/attachments/{id}/link and works for 5 minutes. Served like /v1/attachments/{id}/content.',
        security: [],
        params: IdParams,
        querystring: Type.Object(
          {
            variant: Type.Optional(VariantQuery),
            expires: Type.String({ pattern: '^[0-9]{1,15}$', description: 'Epoch ms, from the link' }),
            signature: Type.String({
              maxLength: 64,
              pattern: '^[A-Za-z0-9_-]+$',
              description: 'From the link',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: BYTES, ...readErrors },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const variant: Variant = q.variant ?? 'original';
      const row = await resolveLink(ctx, req.params.id, variant, Number(q.expires), q.signature);
      return sendFile(reply, await readAttachment(ctx, row, variant));
    },
  );
}

const PRODUCES = ['application/octet-stream', 'image/*', 'text/plain', 'application/json'];
const BYTES = {
  description: 'The bytes',
  content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
};

function sendFile(reply: FastifyReply, file: Awaited<ReturnType<typeof readAttachment>>) {
  return reply
    .type(file.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : file.contentType)
    .header('content-disposition', contentDisposition(file.inline, file.name))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, max-age=300')
    .send(Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength) as never);
}
