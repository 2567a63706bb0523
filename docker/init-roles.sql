-- Run once as a superuser before the first migration.
CREATE ROLE paht_owner LOGIN PASSWORD 'owner-password' NOSUPERUSER;
CREATE ROLE paht_api NOLOGIN NOSUPERUSER NOBYPASSRLS;
CREATE ROLE paht_app LOGIN PASSWORD 'app-password' NOSUPERUSER NOBYPASSRLS IN ROLE paht_api;
CREATE DATABASE paht OWNER paht_owner;
