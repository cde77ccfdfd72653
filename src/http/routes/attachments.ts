import Type from 'typebox';
import { extractBearer } from '../../auth/bearer.ts';
import type { AppContext } from '../../context.ts';
import { ForbiddenError } from '../../domain/errors.ts';
import {
  getAttachment,
  readAttachment,
  resolveLink,
  signLink,
  uploadAttachment,
  type Variant,
} from '../../services/attachments.ts';
import { authenticateToken } from '../../services/tokens.ts';
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
 * the bearer token, or through a signed link from `/link` that works for 5 minutes without one
 * (for <img> tags, which cannot send a header).
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
            { name: Type.String({ minLength: 1, maxLength: 255, description: 'The file name (no path)' }) },
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
      // Bearer token (scope messages:read) or a signed link: checked here, not by the auth hook.
      config: { public: true, produces: ['application/octet-stream', 'image/*', 'application/json'] },
      schema: {
        tags,
        summary: 'Download an attachment (or its preview)',
        description:
          'With the bearer token (scope messages:read), or the expires and signature of a link from /link. Raster images are served inline; everything else (SVG and HTML included) as Content-Disposition: attachment. Always X-Content-Type-Options: nosniff.',
        security: [{ bearer: ['messages:read'] }, {}],
        params: IdParams,
        querystring: Type.Object(
          {
            variant: Type.Optional(VariantQuery),
            expires: Type.Optional(
              Type.String({ pattern: '^[0-9]{1,15}$', description: 'From a signed link' }),
            ),
            signature: Type.Optional(
              Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'From a signed link' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'The bytes',
            content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
          },
          ...readErrors,
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const variant: Variant = q.variant ?? 'original';
      let row: Awaited<ReturnType<typeof getAttachment>>;
      if (q.signature !== undefined || q.expires !== undefined) {
        if (q.signature === undefined || q.expires === undefined)
          throw new ForbiddenError('invalid_link', 'A signed link needs both expires and signature');
        row = await resolveLink(ctx, req.params.id, variant, Number(q.expires), q.signature);
      } else {
        const p = await authenticateToken(ctx, extractBearer(req.headers.authorization));
        if (!p.scopes.has('messages:read'))
          throw new ForbiddenError('insufficient_scope', 'This token lacks the messages:read scope', {
            required: 'messages:read',
          });
        req.principal = p;
        row = await getAttachment(ctx, p, req.params.id);
      }
      const file = await readAttachment(ctx, row, variant);
      return reply
        .type(file.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : file.contentType)
        .header('content-disposition', contentDisposition(file.inline, file.name))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, max-age=300')
        .send(Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength) as never);
    },
  );
}
