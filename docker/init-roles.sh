#!/bin/sh
# Run by the postgres image once, when its data volume is initialised: docker/init-roles.sql
# with the passwords from docker/.env.
set -eu
: "${PAHT_OWNER_PASSWORD:?set it in docker/.env}" "${PAHT_APP_PASSWORD:?set it in docker/.env}"
psql --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$PAHT_OWNER_PASSWORD" -v app_password="$PAHT_APP_PASSWORD" \
  -f /paht/init-roles.sql
