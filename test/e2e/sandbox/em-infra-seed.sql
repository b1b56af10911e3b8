-- An em-runtime infrastructure database (Keycloak, OpenFGA, Infisical): their own schema, no Alembic (run as
-- the admin, connected to the database; :svc names it and its owning role).
SET ROLE :"svc";
CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO settings VALUES ('schema', :'svc' || '-1'), ('installed', '2026-01-01');
RESET ROLE;
