#!/bin/sh
# Builds Parley's two Debian base images from Debian packages alone, for machines that cannot
# pull from a container registry: mmdebstrap makes a root filesystem tarball from a Debian
# mirror and `podman import` turns it into an image (docker import works the same way).
#
#   localhost/parley-base:bookworm        minimal Debian + CA certificates (the runtime stage)
#   localhost/parley-build-base:bookworm  the same + Debian's nodejs and npm (the build stage
#                                         runs `npm ci` with them; the project's Node 24 comes
#                                         from the `node` npm package it installs)
#
# Needs: mmdebstrap and podman (apt-get install mmdebstrap podman), root or a user namespace.
# Env: SUITE (bookworm), MIRROR (http://deb.debian.org/debian), ENGINE (podman), OUT (a temp dir).
set -eu
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ENGINE=${ENGINE:-podman}
OUT=${OUT:-$(mktemp -d)}

build() { # name, extra packages
  tarball="$OUT/$1.tar"
  echo "== mmdebstrap $SUITE -> $tarball (+ $2)" >&2
  mmdebstrap --variant=minbase --include="ca-certificates,$2" \
    --customize-hook='chroot "$1" apt-get clean' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/*' \
    "$SUITE" "$tarball" "$MIRROR"
  echo "== $ENGINE import $tarball localhost/$1:$SUITE" >&2
  "$ENGINE" import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' "$tarball" "localhost/$1:$SUITE"
  rm -f "$tarball"
}

build parley-base "tzdata"
build parley-build-base "nodejs,npm,git"
"$ENGINE" images --filter reference='localhost/parley-*'
