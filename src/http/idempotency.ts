import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { ValidationError } from '../domain/errors.ts';
import { beginIdempotent, finishIdempotent, hashRequest } from '../services/idempotency.ts';
import { principalOf } from './auth.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** POST routes that create: an Idempotency-Key header makes retries return the first answer. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyKey: string | null;
  }
}

const KEY = /^[\x21-\x7e]{1,128}$/;

/**
 * `Idempotency-Key` for the routes whose config says `idempotent`: the first request runs,
 * a retry with the same key and body gets the stored status and body back (with
 * `Idempotent-Replayed: true`) and changes nothing.
 */
export function registerIdempotency(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('idempotencyKey', null);
  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.idempotent) return;
    const key = request.headers['idempotency-key'];
    if (key === undefined) return;
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw ValidationError.field(
        'header.idempotency-key',
        'must be 1-128 printable ASCII characters',
        'invalid_idempotency_key',
      );
    }
    const start = await beginIdempotent(
      ctx,
      principalOf(request),
      key,
      hashRequest(request.method, request.url, request.body),
    );
    if (start.kind === 'replay') {
      return reply
        .code(start.status)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(start.body);
    }
    request.idempotencyKey = key;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.idempotencyKey && request.principal) {
      await finishIdempotent(
        ctx,
        request.principal,
        request.idempotencyKey,
        reply.statusCode,
        String(payload ?? ''),
      );
    }
    return payload;
  });
}
