import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { findPublicWidget } from '../services/widgets.ts';

/** Where scripts/build-widget.ts puts the widget's loader and panel. */
export const WIDGET_DIST = fileURLToPath(new URL('../../web/widget/dist', import.meta.url));

const KEY = /^wk_[A-Za-z0-9_-]{1,64}$/;

function read(name: string): string | null {
  const path = join(WIDGET_DIST, name);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

const selfOrigin = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

/**
 * The widget's browser side, served by Parley: `/widget.js` (the loader a site embeds with one
 * script tag), `/widget/panel.js` and `/widget/frame?key=...` (the chat panel's iframe document).
 * The frame answers `Content-Security-Policy: frame-ancestors <the widget's allowed origins>`,
 * so a page on any other origin cannot show it.
 */
export async function registerWidgetStatic(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const files = new Map<string, string | null>();
  const file = (name: string) => {
    // Read once (and again while it is missing: a build after start is picked up).
    if (!files.get(name)) files.set(name, read(name));
    return files.get(name) ?? null;
  };
  const script = (name: string) => async (_req: FastifyRequest, reply: import('fastify').FastifyReply) => {
    const body = file(name);
    if (body === null)
      return reply
        .code(503)
        .type('application/javascript; charset=utf-8')
        .send('/* The Parley widget is not built: run npm run build:widget */');
    reply.header('cache-control', 'public, max-age=300');
    reply.header('access-control-allow-origin', '*');
    reply.header('x-content-type-options', 'nosniff');
    return reply.type('application/javascript; charset=utf-8').send(body);
  };
  app.get('/widget.js', { config: { public: true }, schema: { hide: true } }, script('loader.js'));
  app.get('/widget/panel.js', { config: { public: true }, schema: { hide: true } }, script('panel.js'));

  app.get('/widget/frame', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const key = (req.query as { key?: unknown }).key;
    const w = typeof key === 'string' && KEY.test(key) ? await findPublicWidget(ctx, key) : undefined;
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (!w) {
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors *");
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><meta charset="utf-8"><title>Chat</title><p>This chat widget does not exist.</p>',
        );
    }
    const self = selfOrigin(req);
    const ws = self.replace(/^http/, 'ws');
    const ancestors = w.allowedOrigins.length > 0 ? w.allowedOrigins.join(' ') : "'none'";
    reply.header(
      'content-security-policy',
      [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'unsafe-inline'",
        `connect-src 'self' ${ws}`,
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        `frame-ancestors ${ancestors}`,
      ].join('; '),
    );
    return reply
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Chat</title></head>` +
          `<body><div id="parley-widget" data-key="${w.publicKey}"></div><script src="/widget/panel.js"></script></body></html>`,
      );
  });
}
