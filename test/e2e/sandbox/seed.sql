-- "The Alexandria database" of the e2e sandbox: run by lib.sh as the superuser inside the freshly created
-- database (psql -v app_role=alexandria -f seed.sql). Deterministic: every run produces the same rows, so a
-- test can compare checksums before an upgrade and after a restore.
-- Sizes: users 2000, documents 3000 (~1 KB of text each), events 6000 (jsonb), schema_migrations 1 (version 1).
\set ON_ERROR_STOP on
SET ROLE :"app_role";
BEGIN;

CREATE TABLE schema_migrations (
  version    int PRIMARY KEY,
  applied_at timestamptz
);
INSERT INTO schema_migrations (version, applied_at) VALUES (1, '2025-01-06 09:00:00+00');

CREATE TABLE users (
  id           bigserial PRIMARY KEY,
  email        text NOT NULL UNIQUE,
  display_name text NOT NULL,
  is_admin     boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL
);
INSERT INTO users (email, display_name, is_admin, created_at)
SELECT format('user%s@alexandria.test', i), format('User %s', i), i = 1,
       timestamptz '2025-01-06 09:00:00+00' + i * interval '17 minutes'
FROM generate_series(1, 2000) AS i;

CREATE TABLE documents (
  id         bigserial PRIMARY KEY,
  owner_id   bigint NOT NULL REFERENCES users (id),
  title      text NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL
);
INSERT INTO documents (owner_id, title, body, created_at)
SELECT 1 + (i * 7) % 2000, format('Document %s', i),
       (SELECT string_agg(md5(i::text || ':' || j::text), ' ') FROM generate_series(1, 1 + i % 30) AS j),
       timestamptz '2025-01-07 00:00:00+00' + i * interval '11 minutes'
FROM generate_series(1, 3000) AS i;
CREATE INDEX documents_owner_id_idx ON documents (owner_id);

CREATE TABLE events (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users (id),
  document_id bigint REFERENCES documents (id),
  kind        text NOT NULL,
  payload     jsonb NOT NULL,
  occurred_at timestamptz NOT NULL
);
INSERT INTO events (user_id, document_id, kind, payload, occurred_at)
SELECT 1 + (i * 13) % 2000,
       CASE WHEN i % 4 = 0 THEN NULL ELSE 1 + (i * 5) % 3000 END,
       (ARRAY['login', 'document.view', 'document.edit', 'search'])[1 + i % 4],
       jsonb_build_object('seq', i, 'ip', format('10.0.%s.%s', i % 256, (i * 3) % 256),
                          'tags', jsonb_build_array('e2e', 'seed', i % 10)),
       timestamptz '2025-01-08 00:00:00+00' + i * interval '3 minutes'
FROM generate_series(1, 6000) AS i;
CREATE INDEX events_user_id_idx ON events (user_id);
CREATE INDEX events_payload_idx ON events USING gin (payload);

COMMIT;
RESET ROLE;
ANALYZE;
