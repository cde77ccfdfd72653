import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.ts';

export type { paths };

export interface ParleyClientOptions {
  /** Where the server is, without /v1: `http://localhost:8080`. */
  baseUrl: string;
  /** An access token (`pk_...`), sent as `Authorization: Bearer <token>` on every request. */
  token: string;
  /** A fetch to use instead of globalThis.fetch (tests, proxies). */
  fetch?: ClientOptions['fetch'];
}

export type ParleyClient = Client<paths>;

/**
 * A typed client of the native Parley API, generated from /openapi.json (`npm run gen:client`).
 * Paths, parameters, bodies and responses are checked by TypeScript:
 *
 *   const parley = createParleyClient({ baseUrl: 'http://localhost:8080', token });
 *   const { data, error } = await parley.GET('/v1/conversations/{id}', { params: { path: { id } } });
 *
 * Each call resolves to `{ data, response }` on a 2xx and `{ error, response }` (the Parley error
 * body, `{ error: { code, message, details } }`) otherwise; it rejects only on network failure.
 */
export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { Authorization: `Bearer ${options.token}` },
    fetch: options.fetch,
  });
}
