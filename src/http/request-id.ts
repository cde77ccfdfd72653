import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';

/** A client's X-Request-Id is kept when it is a plain token of this shape (else a UUID is made). */
const SANE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * The id of a request (Fastify's genReqId): the client's `X-Request-Id` when it is a sane token
 * (8-128 characters of letters, digits and `._:-`), a new UUID otherwise. It is returned in
 * the `X-Request-Id` header of every response and as `request_id` in native error bodies.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
}

const bound = new WeakSet<FastifyRequest>();

/** Once a request is authenticated, its log lines name the org and the actor (a child logger). */
export function bindRequestLog(request: FastifyRequest): void {
  const p = request.principal;
  if (!p || bound.has(request)) return;
  bound.add(request);
  request.log = request.log.child({ org_id: p.orgId, actor_id: p.actor.id });
}
