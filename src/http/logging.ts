import type { FastifyRequest } from 'fastify';

/**
 * What the request log may say. Tokens travel in the query string where a client cannot send
 * a header (`GET /v1/stream?access_token=...` from a browser): the logged URL keeps the name of
 * every query parameter but not the value of a secret one.
 */

/** Query parameters whose values are secrets (compared without case). */
const SECRET_PARAMS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'auth',
  'authtoken',
  'authorization',
  'api_key',
  'apikey',
  'key',
  'secret',
  'client_secret',
  'password',
  'signature',
  'sig',
]);

/** `url` (a path with its query) with the value of every secret query parameter replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url.slice(q + 1).split('&');
  let changed = false;
  const out = parts.map((part) => {
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      name = rawName;
    }
    if (!SECRET_PARAMS.has(name.trim().toLowerCase())) return part;
    changed = true;
    return `${rawName}=[redacted]`;
  });
  return changed ? `${url.slice(0, q)}?${out.join('&')}` : url;
}

const headerText = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);

/** Fastify's request serializer (its fields as by default), with the URL redacted. */
export function serializeRequest(req: FastifyRequest) {
  return {
    method: req.method,
    url: redactUrl(req.url),
    version: headerText(req.headers?.['accept-version']),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * The logger's options besides its level and destination: the request serializer above, and
 * the same redaction of a `url` or `path` a log line names itself (a plugin logging the raw URL).
 */
export const loggerOptions = {
  serializers: { req: serializeRequest },
  formatters: {
    log(object: Record<string, unknown>): Record<string, unknown> {
      const redact = (k: string) =>
        typeof object[k] === 'string' ? redactUrl(object[k] as string) : object[k];
      if (object.url === undefined && object.path === undefined) return object;
      return {
        ...object,
        ...(object.url === undefined ? {} : { url: redact('url') }),
        ...(object.path === undefined ? {} : { path: redact('path') }),
      };
    },
  },
};

/**
 * A budget of log lines: at most `perMinute` a minute (per node), so that a client cannot make
 * the server write as many lines as it likes. `take()` answers whether a line may be written
 * now, and how many were left out since the last one written.
 */
export class LogBudget {
  readonly #perMinute: number;
  readonly #now: () => number;
  #windowAt = 0;
  #used = 0;
  #suppressed = 0;

  constructor(perMinute: number, now: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#now = now;
  }

  take(): { ok: true; suppressed: number } | { ok: false } {
    const now = this.#now();
    if (now - this.#windowAt >= 60_000) {
      this.#windowAt = now;
      this.#used = 0;
    }
    if (this.#used >= this.#perMinute) {
      this.#suppressed += 1;
      return { ok: false };
    }
    this.#used += 1;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return { ok: true, suppressed };
  }
}
