import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import findMyWay from 'find-my-way';
import Negotiator from 'negotiator';
import sjson from 'secure-json-parse';
import { AppError, ValidationError } from '../domain/errors.ts';

/**
 * JSON bodies: prototype-poisoning keys are refused, and integers too large for a double
 * (ids sent as JSON numbers, e.g. 2^53 < n < 2^63) are kept as their exact decimal text
 * using JSON.parse's source access, so no digit is lost.
 */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  let nulIn: string | null = null;
  let parsed: unknown;
  try {
    parsed = sjson.parse(
      text,
      (key: string, value: unknown, context?: { source?: string }) => {
        if (
          nulIn === null &&
          (key.includes('\u0000') || (typeof value === 'string' && value.includes('\u0000')))
        )
          nulIn = key;
        return typeof value === 'number' &&
          !Number.isSafeInteger(value) &&
          context?.source &&
          /^-?[0-9]+$/.test(context.source)
          ? context.source
          : value;
      },
      { protoAction: 'error', constructorAction: 'error' },
    );
  } catch {
    const err = new Error('The body is not valid JSON') as Error & { code: string; statusCode: number };
    err.code = 'PARLEY_INVALID_JSON';
    err.statusCode = 400;
    throw err;
  }
  // PostgreSQL cannot store U+0000 in text, so no surface accepts it, on either database.
  if (nulIn !== null)
    throw ValidationError.field(
      nulIn === '' ? 'body' : `body.${nulIn}`,
      'must not contain the NUL character (\\u0000)',
      'invalid_text',
    );
  return parsed;
}

export function registerJsonParser(app: FastifyInstance): void {
  // JSON only: any other body (text/plain included) is 415, not a string that fails validation.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The media types a route answers with, when not JSON (a CSV export); checked against Accept. */
    produces?: readonly string[];
  }
}

/**
 * 406 unless the client accepts what the route answers: JSON, or the route's `produces`
 * (a missing Accept header accepts anything).
 */
export function assertAcceptsJson(request: FastifyRequest): void {
  if (!request.headers.accept) return;
  const produces = request.routeOptions.config?.produces ?? ['application/json'];
  const negotiator = new Negotiator({ headers: { accept: request.headers.accept } });
  if (!negotiator.mediaType([...produces])) {
    throw new AppError(
      'not_acceptable',
      'not_acceptable',
      `This endpoint only answers ${produces.join(' or ')}`,
    );
  }
}

/**
 * Remembers every route so a request for a known path with another method answers 405 with
 * an Allow header instead of 404 (Fastify itself only knows "no route").
 */
export interface RouteInfo {
  method: string;
  url: string;
  /** The scope the route demands; null for public routes and routes any token may call. */
  scope: string | null;
  anyScope: boolean;
  /** An instance-administration route (/v1/instance): an instance-admin token, no scope. */
  instance: boolean;
}

export function trackRoutes(app: FastifyInstance) {
  const router = findMyWay();
  const methods = new Set<string>();
  const list: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    const config = route.config as { scope?: string; anyScope?: boolean; instance?: boolean } | undefined;
    const scope = config?.scope ?? null;
    const anyScope = config?.anyScope === true;
    const instance = config?.instance === true;
    for (const m of [route.method].flat()) {
      if (m === 'HEAD' || m === 'OPTIONS') continue;
      methods.add(m);
      list.push({ method: m, url: route.url, scope, anyScope, instance });
      router.on(m as 'GET', route.url, () => {});
    }
  });
  return {
    /** Every route registered, with the scope it demands (the authorization matrix reads this). */
    list,
    /** The methods the path supports, or [] when no route has this path. */
    allowedMethods(url: string): string[] {
      const path = url.split('?')[0] ?? url;
      return [...methods].filter((m) => router.find(m as 'GET', path) !== null);
    },
  };
}

/**
 * A dialect's not-found handler: 405 with Allow for a known path with another method, 404
 * otherwise, each rendered by the dialect's own error renderer.
 */
export function dialectNotFoundHandler(
  allowedMethods: (url: string) => string[],
  render: (err: AppError, request: FastifyRequest, reply: FastifyReply) => unknown,
  messages: { notFound: string; methodNotAllowed: string },
) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const allowed = allowedMethods(request.url);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return render(
        new AppError('method_not_allowed', 'method_not_allowed', messages.methodNotAllowed),
        request,
        reply,
      );
    }
    return render(new AppError('not_found', 'route_not_found', messages.notFound), request, reply);
  };
}
