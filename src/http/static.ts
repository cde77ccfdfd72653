import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build:web` (vite) puts the console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Paths that belong to the API and the docs: never answered with the console. */
const API_PREFIXES = [
  '/v1',
  '/compat',
  '/docs',
  '/openapi.json',
  '/healthz',
  '/readyz',
  '/metrics',
  // The website chat widget (http/widget-static.ts).
  '/widget',
  '/widget.js',
];

function isApiPath(path: string): boolean {
  return API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`));
}

function listFiles(dir: string): Set<string> {
  const files = new Set<string>();
  if (!existsSync(dir)) return files;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files.add(`/${relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/')}`);
  }
  return files;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Parley console</title></head>
<body><main><h1>The Parley console is not built</h1><p>Run <code>npm run build:web</code> (or <code>npm start</code>,
which builds it) and reload. The API is at <a href="/docs">/docs</a>.</p></main></body></html>`;

/**
 * Serves the web console (web/dist) at `/`: its files by exact path, and index.html for any
 * other GET that accepts text/html outside the API (the console routes in the browser).
 * No routes are added: a root onRequest hook answers before the not-found handler, so every
 * other request keeps its JSON 404/405 and the route list (authorization matrix) is unchanged.
 */
export async function registerConsole(app: FastifyInstance, dist = CONSOLE_DIST): Promise<void> {
  const files = listFiles(dist);
  await app.register(fastifyStatic, { root: dist, serve: false, decorateReply: true });
  const sendIndex = (reply: FastifyReply) => {
    reply.header('cache-control', 'no-cache');
    if (!files.has('/index.html')) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.sendFile('index.html', { cacheControl: false });
  };
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    const path = request.url.split('?')[0] ?? '/';
    if (isApiPath(path)) return;
    if (path !== '/' && path !== '/index.html' && files.has(path)) {
      const immutable = path.startsWith('/assets/');
      return reply.sendFile(path.slice(1), {
        cacheControl: true,
        immutable,
        maxAge: immutable ? 31_536_000_000 : 0,
      });
    }
    const accept = String(request.headers.accept ?? '');
    if (path === '/' || path === '/index.html' || accept.includes('text/html')) return sendIndex(reply);
  });
}
