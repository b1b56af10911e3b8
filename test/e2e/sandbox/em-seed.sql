-- One em-runtime service's database, as its own Alembic migrations leave it (run as the admin, connected to
-- the database; :svc names the service and its owning role). Deterministic; a few rows each.
SET ROLE :"svc";
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0001_' || :'svc');
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO items SELECT i, :'svc' || '-item-' || i, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute'
  FROM generate_series(1, 200) AS i;
RESET ROLE;
