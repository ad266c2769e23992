#!/usr/bin/env bash
# Builds pgvector for this machine's PostgreSQL from Debian's source package when the
# extension is missing. Debian bookworm ships no pgvector package; trixie's source builds
# against postgresql-server-dev-<major>. The mirror is read from the machine's apt config.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}

if ! command -v psql >/dev/null 2>&1; then
  echo "install-pgvector: no psql on this machine; skipping (tests use PGlite)"
  exit 0
fi
if ! psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  echo "install-pgvector: no PostgreSQL answering on $PGHOST:$PGPORT; skipping"
  exit 0
fi
if [ "$(psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -Atqc "select count(*) from pg_available_extensions where name='vector'")" = "1" ]; then
  echo "install-pgvector: vector extension already available"
  exit 0
fi

major=$(psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -Atqc 'show server_version_num' | cut -c1-2)
mirror=$( (cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true) \
  | grep -E '^(URIs:|deb )' | grep -v security | head -n1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*$//')
if [ -z "$mirror" ]; then
  echo "install-pgvector: could not read a Debian mirror from apt's configuration" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-$major" dpkg-dev build-essential >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/sources.list.d"
echo "deb-src $mirror trixie main" >"$work/sources.list"
aptopts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/sources.list.d" -o "Dir::State::Lists=$work/lists")
apt-get "${aptopts[@]}" update -qq
(cd "$work" && apt-get "${aptopts[@]}" source --download-only pgvector >/dev/null && dpkg-source -x pgvector_*.dsc src >/dev/null)
make -C "$work/src" -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" >/dev/null
make -C "$work/src" -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" install >/dev/null

# Installing the dev package can upgrade the server package; make sure the cluster answers.
for _ in $(seq 1 30); do
  psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -Atqc 'select 1' >/dev/null 2>&1 && break
  pg_ctlcluster --skip-systemctl-redirect "$major" main restart >/dev/null 2>&1 || true
  sleep 1
done
psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -Atqc "select default_version from pg_available_extensions where name='vector'"
echo "install-pgvector: built pgvector from Debian's source package"
