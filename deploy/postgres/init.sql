-- One database per service, each owned by its own role: a service can reach only its own data.
-- Run once by the postgres image on an empty volume (docker-compose.yml). The passwords are for
-- the local compose setup only; real deployments get them from their secret store.
CREATE ROLE odr_intake        LOGIN PASSWORD 'odr_intake';
CREATE ROLE odr_sessions      LOGIN PASSWORD 'odr_sessions';
CREATE ROLE odr_agreements    LOGIN PASSWORD 'odr_agreements';
CREATE ROLE odr_notifications LOGIN PASSWORD 'odr_notifications';

CREATE DATABASE odr_intake        OWNER odr_intake;
CREATE DATABASE odr_sessions      OWNER odr_sessions;
CREATE DATABASE odr_agreements    OWNER odr_agreements;
CREATE DATABASE odr_notifications OWNER odr_notifications;

REVOKE CONNECT, TEMPORARY ON DATABASE odr_intake, odr_sessions, odr_agreements, odr_notifications FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE odr_intake        TO odr_intake;
GRANT CONNECT, TEMPORARY ON DATABASE odr_sessions      TO odr_sessions;
GRANT CONNECT, TEMPORARY ON DATABASE odr_agreements    TO odr_agreements;
GRANT CONNECT, TEMPORARY ON DATABASE odr_notifications TO odr_notifications;
