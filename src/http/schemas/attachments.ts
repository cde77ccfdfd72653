import Type from 'typebox';

/** An attachment as a message shows it (domain/presenters.ts presentAttachmentRef). */
export const AttachmentRefSchema = Type.Object({
  id: Type.String({ pattern: '^[0-9]{1,19}$', format: 'parley-id' }),
  name: Type.String({ description: 'The file name given at upload (no path)' }),
  content_type: Type.String({ description: 'Sniffed from the bytes, not taken from the client' }),
  size: Type.Integer({ description: 'Bytes' }),
  width: Type.Union([Type.Integer(), Type.Null()], { description: 'Pixels (images)' }),
  height: Type.Union([Type.Integer(), Type.Null()], { description: 'Pixels (images)' }),
  url: Type.String({ description: 'Download path; needs the bearer token (or a link from /link)' }),
  preview_url: Type.Union([Type.String(), Type.Null()], {
    description: 'A downscaled WebP preview without metadata (images); null for other files',
  }),
});
