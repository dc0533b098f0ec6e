#!/bin/sh
# initdb on first start, then exec postgres with the given arguments (as the official image).
set -eu
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [ "$auth" = trust ]; then
    initdb --no-sync -U "${POSTGRES_USER:-postgres}" --auth=trust --encoding=UTF8 -D "$PGDATA" >/dev/null
  else
    : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD or POSTGRES_HOST_AUTH_METHOD=trust}"
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb --no-sync -U "${POSTGRES_USER:-postgres}" --auth="$auth" --pwfile="$pwfile" --encoding=UTF8 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
  fi
  printf "host all all all %s\n" "$auth" >>"$PGDATA/pg_hba.conf"
fi
exec "$@"
