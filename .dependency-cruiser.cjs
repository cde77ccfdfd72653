/**
 * Import rules for src/ (docs/architecture.md, "Import rules"), checked by
 * `npm run check:imports` (in .ci/run and test/unit/imports.test.ts).
 */
/**
 * KNOWN VIOLATIONS: an allowlist of what breaks the rules, each named, for a violation that
 * must stay while it is removed. Empty: the context names no service types (the ports it
 * needs, EventSink and RateLimiter, are declared in context.ts), store repositories take
 * their `Db` type from store/schema.ts, and the write path's events ride on the transaction
 * handle (services/tx.ts), so no cycle is left. An entry that no longer occurs fails
 * test/unit/imports.test.ts; a new violation fails the check.
 */
/** @type {import('dependency-cruiser').IViolation[]} */
const knownViolations = [];

const layers = {
  domain: '^src/domain/',
  store: '^src/store/',
  services: '^src/services/',
  http: '^src/http/',
  realtime: '^src/realtime/',
  compat: '^src/compat/',
};

module.exports = {
  forbidden: [
    {
      name: 'compat-not-store',
      comment:
        'A compatibility dialect translates to and from the services; it never reads the store itself.',
      severity: 'error',
      from: { path: layers.compat },
      to: { path: layers.store },
    },
    {
      name: 'services-not-http',
      comment: 'Services know nothing of HTTP: routes call services, never the other way round.',
      severity: 'error',
      from: { path: layers.services },
      to: { path: layers.http },
    },
    {
      name: 'store-not-services',
      comment: 'The store (repositories, migrations, database differences) sits below the services.',
      severity: 'error',
      from: { path: layers.store },
      to: { path: layers.services },
    },
    {
      name: 'domain-pure',
      comment:
        'The domain (model, policies, presenters, errors) imports no store, service, HTTP or realtime code.',
      severity: 'error',
      from: { path: layers.domain },
      to: { path: [layers.store, layers.services, layers.http, layers.realtime] },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    // TypeScript 7 has no compiler API for dependency-cruiser: swc parses the .ts files.
    parser: 'swc',
    // Type-only imports count too (they are dependencies between the layers all the same).
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    // The generated API client is not part of the server.
    exclude: { path: '^src/client/' },
    knownViolations,
  },
};
