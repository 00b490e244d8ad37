#!/usr/bin/env bash
# Installs pgvector into the local PostgreSQL server when it is missing.
# Debian bookworm has no pgvector package for PostgreSQL 15, so we build Debian's own source package
# (trixie, 0.8.x) against postgresql-server-dev-<major>. Idempotent: exits in well under a second when
# the extension files are already installed.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-$(pg_config --version 2>/dev/null | sed -E 's/[^0-9]*([0-9]+).*/\1/' || true)}"
if [ -z "${PG_MAJOR}" ]; then
  PG_MAJOR="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
fi
SHAREDIR="/usr/share/postgresql/${PG_MAJOR}/extension"

if ls "${SHAREDIR}"/vector.control >/dev/null 2>&1 && ls "/usr/lib/postgresql/${PG_MAJOR}/lib/vector.so" >/dev/null 2>&1; then
  echo "pgvector: already installed for PostgreSQL ${PG_MAJOR}"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

echo "pgvector: building Debian's source package for PostgreSQL ${PG_MAJOR}"
SRC_LIST=/etc/apt/sources.list.d/discograph-trixie-src.list
if [ ! -f "${SRC_LIST}" ]; then
  echo "deb-src http://deb.debian.org/debian trixie main" | ${SUDO} tee "${SRC_LIST}" >/dev/null
fi
${SUDO} apt-get update -qq
DEBIAN_FRONTEND=noninteractive ${SUDO} apt-get install -y -qq "postgresql-server-dev-${PG_MAJOR}" dpkg-dev make gcc >/dev/null

WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT
cd "${WORK}"
apt-get source --download-only pgvector >/dev/null 2>&1 || apt-get source --download-only pgvector
dpkg-source -x --no-check pgvector_*.dsc src >/dev/null
cd src
make -s PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" >/dev/null
${SUDO} make -s install PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" >/dev/null
echo "pgvector: installed $(grep default_version vector.control | cut -d"'" -f2) for PostgreSQL ${PG_MAJOR}"
