#!/bin/sh
# Builds localhost/parley:latest from the Dockerfile (npm run container:build). The base images
# come from scripts/build-base-image.sh (npm run container:base) unless BASE/BUILD_BASE name
# others. Behind a TLS-intercepting proxy, set CA_FILE (default: $NODE_EXTRA_CA_CERTS) to the
# proxy's CA bundle: it reaches `npm ci` as a build secret, never a layer of the image.
# Env: ENGINE (podman), IMAGE (localhost/parley:latest), BASE, BUILD_BASE, CA_FILE,
#      BUILD_ARGS (extra build options; default "--isolation chroot" for podman, which builds
#      where containers cannot get their own cgroups).
set -eu
ENGINE=${ENGINE:-podman}
IMAGE=${IMAGE:-localhost/parley:latest}
CA_FILE=${CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}
cd "$(dirname "$0")/.."
ca=$(mktemp)
trap 'rm -f "$ca"' EXIT
[ -n "$CA_FILE" ] && cat "$CA_FILE" > "$ca"
if [ "$ENGINE" = podman ]; then default_args="--isolation chroot --format docker"; else default_args=""; fi
set -x
# shellcheck disable=SC2086
$ENGINE build ${BUILD_ARGS:-$default_args} --network host --secret id=ca,src="$ca" \
  ${BASE:+--build-arg BASE="$BASE"} ${BUILD_BASE:+--build-arg BUILD_BASE="$BUILD_BASE"} \
  -t "$IMAGE" .
