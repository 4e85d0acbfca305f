#!/usr/bin/env bash
# Install (if needed) and start a local PostgreSQL for the test suite, then
# print the URL of a role that may create databases. Idempotent.
set -euo pipefail

ROLE=pixelvault_test
PASSWORD=pixelvault_test

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing PostgreSQL (Debian package)..." >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION main"; then
  as_root pg_createcluster "$VERSION" main >&2
fi
STATUS=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $4}')
if [ "$STATUS" != "online" ]; then
  as_root pg_ctlcluster "$VERSION" main start >&2
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $3}')

for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { echo "error: PostgreSQL did not start" >&2; exit 69; }

as_root runuser -u postgres -- psql -q -p "$PORT" -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END \$\$;
SQL

echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/postgres"
