#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, user postgres without password) and
# Redis (127.0.0.1:6379) answer before the tests run: starts them when they
# are installed, installs them with apt-get when running as root, and
# otherwise says what to do.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=5432
REDIS_PORT=6379

say() { printf 'ensure-services: %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }

apt_install() {
  if ! is_root; then
    say "$1 is not installed and this is not root: install it (sudo apt-get install -y $*) and run make test again."
    exit 1
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_answers() {
  command -v pg_isready >/dev/null && pg_isready -q -h "$PGHOST" -p "$PGPORT"
}

postgres_accepts_postgres_user() {
  command -v psql >/dev/null && psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1
}

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    apt_install postgresql postgresql-client
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  say "starting PostgreSQL $version"
  if is_root; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  else
    say "PostgreSQL is installed but not running, and starting it needs root: sudo pg_ctlcluster $version main start"
    exit 1
  fi
}

# The tests connect over TCP as postgres without a password (as CI machines do).
trust_local_postgres() {
  local version hba
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if is_root && [ -w "$hba" ] && ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
    say "allowing postgres@127.0.0.1 without password for the tests ($hba)"
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
}

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 60); do
    if $check; then return 0; fi
    sleep 0.5
  done
  say "$what did not come up within 30 s"
  exit 1
}

redis_answers() {
  command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

if ! postgres_answers; then
  start_postgres
  wait_for PostgreSQL postgres_answers
fi
if ! postgres_accepts_postgres_user; then
  trust_local_postgres
  postgres_accepts_postgres_user || {
    say "PostgreSQL answers but refuses postgres@$PGHOST without password; allow it in pg_hba.conf or set CATALOGUE_TEST_POSTGRES_URL"
    exit 1
  }
fi
if ! redis_answers; then
  start_redis
  wait_for Redis redis_answers
fi
say "PostgreSQL and Redis are up"
