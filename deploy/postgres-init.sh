#!/bin/sh
# Runs once, when the PostgreSQL volume is first created, as the owner role (POSTGRES_USER).
# The owner runs migrations and owns every table; the app connects as cx_app, which is neither a
# superuser nor an owner, so the row-level security policies apply to it (see README, "Tenancy").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE cx_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '${APP_DB_PASSWORD}';
GRANT CONNECT ON DATABASE "${POSTGRES_DB}" TO cx_app;
GRANT USAGE ON SCHEMA public TO cx_app;
ALTER DEFAULT PRIVILEGES FOR ROLE "${POSTGRES_USER}" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cx_app;
ALTER DEFAULT PRIVILEGES FOR ROLE "${POSTGRES_USER}" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO cx_app;
SQL
