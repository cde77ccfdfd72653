/**
 * Import rules for src/ (docs/architecture.md, "Import rules"), checked by
 * `npm run check:imports` (in .ci/run and test/unit/imports.test.ts).
 */
/**
 * KNOWN VIOLATIONS: a temporary allowlist of what breaks the rules today, each named, so that
 * the check passes while they are removed; it is meant to be emptied. An entry that no longer
 * occurs fails test/unit/imports.test.ts (take it out); a new violation fails the check.
 *
 * All of today's are import cycles through src/context.ts: the context imports services
 * (events' publishEvents/collectEventsOf at run time; the EventSink, RateLimits and
 * PrincipalCache types), and services and store repositories import the context back (for the
 * AppContext type). The write-path rewrite (a transaction handle carrying tx.emit/tx.audit)
 * removes the context <-> services/events cycle; the others go when the context stops naming
 * service types and the repositories stop importing the context.
 */
const cycle = (...modules) => ({
  type: 'cycle',
  from: modules[0],
  to: modules[1],
  rule: { name: 'no-circular', severity: 'error' },
  cycle: modules.map((name) => ({ name, dependencyTypes: [] })),
});
const knownViolations = [
  cycle('src/context.ts', 'src/services/events.ts'),
  cycle('src/context.ts', 'src/services/events.ts', 'src/store/repos/events.ts'),
  cycle('src/context.ts', 'src/services/rate-limits.ts'),
  cycle('src/context.ts', 'src/services/rate-limits.ts', 'src/store/repos/orgs.ts'),
  cycle('src/context.ts', 'src/services/tokens.ts'),
  cycle('src/context.ts', 'src/services/tokens.ts', 'src/services/events.ts'),
  cycle('src/context.ts', 'src/services/tokens.ts', 'src/services/quotas.ts'),
  cycle('src/context.ts', 'src/services/tokens.ts', 'src/store/repos/actors.ts'),
  cycle('src/context.ts', 'src/services/tokens.ts', 'src/store/repos/tokens.ts'),
];

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
