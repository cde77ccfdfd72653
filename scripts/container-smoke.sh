#!/bin/sh
# Smoke test of the image (npm run container:smoke, after npm run container:build): runs it,
# waits for /healthz and the HEALTHCHECK, seeds the demo org inside the container and calls
# the API with the printed token. Not part of npm test (it needs podman or docker).
# Env: ENGINE (podman), IMAGE (localhost/parley:latest), PORT (18080),
#      RUN_ARGS (extra `run` options, e.g. "--runtime runc --cgroup-manager cgroupfs"),
#      NETWORK=host to skip port publishing (where the engine cannot set up a bridge network).
set -eu
ENGINE=${ENGINE:-podman}
IMAGE=${IMAGE:-localhost/parley:latest}
PORT=${PORT:-18080}
NAME=parley-smoke-$$
if [ "${NETWORK:-}" = host ]; then
  net="--network host -e PORT=$PORT -e HOST=127.0.0.1"
else
  net="-p 127.0.0.1:$PORT:8080"
fi
# shellcheck disable=SC2086
$ENGINE ${ENGINE_ARGS:-} run -d --name "$NAME" ${RUN_ARGS:-} $net "$IMAGE"
trap '$ENGINE ${ENGINE_ARGS:-} logs "$NAME" 2>&1 | tail -5; $ENGINE ${ENGINE_ARGS:-} rm -f "$NAME" >/dev/null' EXIT
i=0
until curl -fsS "http://127.0.0.1:$PORT/healthz"; do
  i=$((i + 1))
  [ $i -lt 60 ] || { echo "no /healthz after 60 s" >&2; exit 1; }
  sleep 1
done
echo
$ENGINE ${ENGINE_ARGS:-} healthcheck run "$NAME" && echo "HEALTHCHECK: healthy"
token=$($ENGINE ${ENGINE_ARGS:-} exec "$NAME" parley seed demo --json | sed -n 's/^ *"token": "\(pk_[^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "no token from parley seed demo" >&2; exit 1; }
curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/v1/me"
echo
echo "container smoke test passed ($IMAGE)"
