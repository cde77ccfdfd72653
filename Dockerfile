# Parley's container image: a build stage that runs `npm ci` (which installs Node 24 from the
# `node` npm package) and builds the web console, and a slim runtime stage holding that Node 24
# binary, the production dependencies and the sources (Node 24 runs the TypeScript directly).
#
# The base images are Debian bookworm. Where a registry is reachable, the defaults of the two
# ARGs can be any Debian image (e.g. debian:bookworm-slim, plus nodejs+npm for the build
# stage); where none is, scripts/build-base-image.sh makes both from Debian packages:
#   npm run container:base && npm run container:build
ARG BASE=localhost/parley-base:bookworm
ARG BUILD_BASE=localhost/parley-build-base:bookworm

FROM ${BUILD_BASE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The secret `ca` (scripts/container-build.sh): an optional extra CA bundle for a TLS proxy.
# Debian's npm 9 brings Node 24 (the `node` package) into node_modules; npm 11 on that Node 24
# then installs for real (npm 9 skips the platform-specific optional packages vite needs).
ENV PATH=/opt/bin:/opt/npm/bin:$PATH
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export npm_config_cafile=/run/secrets/ca NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
 && npm ci --no-audit --no-fund \
 && mkdir -p /opt/bin && cp node_modules/node/bin/node /opt/bin/node \
 && node /usr/share/nodejs/npm/bin/npm-cli.js install -g --prefix /opt/npm --no-audit --no-fund npm@11 \
 && npm ci --no-audit --no-fund
COPY . .
# The console and the chat widget, then only the production dependencies; /opt/bin/node goes to the runtime stage.
RUN node scripts/build-web.ts --force \
 && node scripts/build-widget.ts --force \
 && npm prune --omit=dev --no-audit --no-fund \
 && node bin/parley.js --version

FROM ${BASE}
RUN groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --home-dir /app --no-create-home --shell /usr/sbin/nologin parley \
 && mkdir -p /data && chown parley:parley /data \
 && printf '#!/bin/sh\nexec node /app/bin/parley.js "$@"\n' > /usr/local/bin/parley && chmod 755 /usr/local/bin/parley
COPY --from=build /opt/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/web/widget/dist ./web/widget/dist
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    SQLITE_PATH=/data/parley.db
# The embedded database (SQLITE_PATH); unused when DATABASE_URL points at PostgreSQL.
VOLUME /data
EXPOSE 8080
USER parley
# Node's fetch: the runtime image has no curl. (Docker image format: podman build --format docker.)
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["parley"]
CMD ["serve"]
