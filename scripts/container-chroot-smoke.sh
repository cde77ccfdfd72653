#!/bin/sh
# Fallback smoke test of the image where the engine cannot start containers (e.g. a sandbox
# that denies setrlimit or cgroups): runs the image root filesystem in a chroot, as its user
# parley (10001), with /data on a temp dir, on the host network (port 18080). Root only.
# npm run container:smoke:chroot (after npm run container:build).
set -u
M=$(podman image mount localhost/parley:latest); echo "image root: $M"
D=$(mktemp -d); chown 10001:10001 $D
R=$(mktemp -d); mount -t overlay overlay -o lowerdir=$M,upperdir=$D.up,workdir=$D.wk $R 2>/dev/null || { mkdir -p $D.up $D.wk; mount -t overlay overlay -o lowerdir=$M,upperdir=$D.up,workdir=$D.wk $R; }
mount --bind $D $R/data; mount -t proc proc $R/proc; mount --bind /dev $R/dev
ENV="NODE_ENV=production HOST=0.0.0.0 PORT=18080 SQLITE_PATH=/data/parley.db PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8"
( cd / && chroot --userspec=10001:10001 $R /usr/bin/env -i $ENV sh -c 'cd /app && exec parley serve' > /tmp/ops-chroot-serve.log 2>&1 & echo $! > /tmp/ops-chroot.pid )
for i in $(seq 40); do curl -fsS http://127.0.0.1:18080/healthz && break; sleep 1; done; echo
chroot --userspec=10001:10001 $R /usr/bin/env -i $ENV sh -c 'cd /app && id && node --version && node -e "fetch(\"http://127.0.0.1:\"+(process.env.PORT||8080)+\"/healthz\").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" && echo HEALTHCHECK-command-ok'
TOKEN=$(chroot --userspec=10001:10001 $R /usr/bin/env -i $ENV sh -c 'cd /app && parley seed demo --json' | sed -n 's/^ *"token": "\(pk_[^"]*\)".*/\1/p'); [ -n "$TOKEN" ] || echo "no token from parley seed demo" >&2
curl -fsS -H "Authorization: Bearer $TOKEN" http://127.0.0.1:18080/v1/me; echo
curl -sS -o /dev/null -w 'no token: %{http_code}\n' http://127.0.0.1:18080/v1/me
ls -ln $D
kill $(pgrep -P $(cat /tmp/ops-chroot.pid) 2>/dev/null) $(cat /tmp/ops-chroot.pid) 2>/dev/null; sleep 2; tail -3 /tmp/ops-chroot-serve.log | cut -c1-200
umount $R/dev $R/proc $R/data $R; podman image unmount localhost/parley:latest >/dev/null; rm -rf $D $D.up $D.wk $R
