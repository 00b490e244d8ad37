#!/usr/bin/env bash
# Starts the local PostgreSQL cluster when it is not accepting connections (CI machines start with it up,
# but a developer's may not). Quick when it is already up.
set -euo pipefail
if pg_isready -h 127.0.0.1 -p 5432 -q; then echo "postgres: up"; exit 0; fi
version="$(ls /etc/postgresql | sort -n | tail -n 1)"
pg_ctlcluster --skip-systemctl-redirect "${version}" main start
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && { echo "postgres: started"; exit 0; }; sleep 1; done
echo "postgres: did not come up on 127.0.0.1:5432" >&2
exit 1
