-- The database and its three roles, created once by a PostgreSQL superuser (DESIGN §2):
--   paht_owner  owns the tables and runs `paht migrate` (FORCE row-level security binds it too)
--   paht_api    NOLOGIN group role; migrations grant it the application's privileges
--   paht_app    what `paht serve` logs in as: owns nothing, NOSUPERUSER, NOBYPASSRLS
-- Passwords are psql variables, never written here:
--   psql -v owner_password=… -v app_password=… -f docker/init-roles.sql
-- (docker/init-roles.sh does this in the compose deployment.)
\set ON_ERROR_STOP on
CREATE ROLE paht_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
  PASSWORD :'owner_password';
CREATE ROLE paht_api NOLOGIN NOSUPERUSER NOBYPASSRLS;
CREATE ROLE paht_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
  IN ROLE paht_api PASSWORD :'app_password';
CREATE DATABASE paht OWNER paht_owner;
