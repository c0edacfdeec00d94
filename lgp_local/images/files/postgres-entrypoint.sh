#!/bin/bash
# Entrypoint of lgp's Postgres image: Debian's PostgreSQL with the official `postgres` image's
# environment. On an empty PGDATA it runs initdb, sets the password, creates POSTGRES_DB and runs
# /docker-entrypoint-initdb.d/*.sql|*.sh, then it runs postgres (listening on every address).
#   POSTGRES_PASSWORD          required unless POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER              default postgres;  POSTGRES_DB  default $POSTGRES_USER
#   PGDATA                     default /var/lib/postgresql/data
#   POSTGRES_INITDB_ARGS       extra initdb arguments;  POSTGRES_HOST_AUTH_METHOD  default scram-sha-256
# Arguments that start with '-' go to postgres (e.g. `-c max_connections=200`); any other command
# is run as given.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "${1:-}" != postgres ]; then exec "$@"; fi
shift

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

mkdir -p "$PGDATA"
chmod 700 "$PGDATA" 2>/dev/null || :

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo "error: the database is not initialized and POSTGRES_PASSWORD is not set" >&2
    echo "  set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one)" >&2
    exit 1
  fi
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  initdb --username="$user" --encoding=UTF8 ${POSTGRES_INITDB_ARGS:-}
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"

  # A server on the Unix socket only, for the set-up steps.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "$user" --no-password --no-psqlrc -p "${PGPORT:-5432}")
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    # psql reads the password from the environment (\getenv): it is in no file, argument or log line
    "${psql[@]}" --dbname postgres --set user="$user" >/dev/null <<'SQL'
\getenv pw POSTGRES_PASSWORD
ALTER ROLE :"user" WITH PASSWORD :'pw';
SQL
  fi
  if [ "$db" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$db" <<< 'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) echo "running $f"; "${psql[@]}" --dbname "$db" -f "$f" ;;
      *) [ -e "$f" ] && echo "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi

exec postgres -c 'listen_addresses=*' "$@"
