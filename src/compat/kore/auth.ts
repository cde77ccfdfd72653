import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { type AppRecord, verifyAppJwt } from '../../services/app-jwt.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The app whose JWT authenticated a bot-dialect request. */
    koreApp: AppRecord | null;
  }
  interface FastifyContextConfig {
    /** Routes of the bot dialect: authenticated by an app JWT in the `auth` header. */
    kore?: boolean;
  }
}

/** The app of an authenticated bot-dialect request. */
export function koreAppOf(request: FastifyRequest): AppRecord {
  if (!request.koreApp) throw new Error('route reached without an app JWT');
  return request.koreApp;
}

/** Authenticates a bot-dialect request by the JWT in its `auth` header (see services/app-jwt.ts). */
export async function authenticateApp(ctx: AppContext, request: FastifyRequest): Promise<void> {
  const header = request.headers.auth;
  request.koreApp = await verifyAppJwt(ctx, Array.isArray(header) ? header[0] : header);
}
