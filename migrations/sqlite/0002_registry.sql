-- The plugin registry: province defaults, staged rollouts, per-unit variants and
-- settings, and an append-only audit of every registry change.

ALTER TABLE plugin_builds ADD COLUMN variant_of TEXT;

-- Where a unit's binding comes from: the province default, a pilot rollout, or a
-- local variant the unit chose.
ALTER TABLE bindings ADD COLUMN source TEXT NOT NULL DEFAULT 'default';

CREATE TABLE province_defaults (
    procedure_code  TEXT PRIMARY KEY,
    build_sha256    TEXT NOT NULL REFERENCES plugin_builds(sha256)
);

CREATE TABLE rollouts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    procedure_code  TEXT NOT NULL,
    build_sha256    TEXT NOT NULL REFERENCES plugin_builds(sha256),
    scope           TEXT NOT NULL,
    units_json      TEXT NOT NULL,
    previous_json   TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    at              TEXT NOT NULL,
    rolled_back_at  TEXT
);
CREATE INDEX rollouts_by_procedure ON rollouts (procedure_code, id);

CREATE TABLE registry_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    action          TEXT NOT NULL,
    procedure_code  TEXT,
    unit            TEXT,
    before_json     TEXT NOT NULL,
    after_json      TEXT NOT NULL
);

CREATE TRIGGER registry_events_no_update BEFORE UPDATE ON registry_events
BEGIN
    SELECT RAISE(ABORT, 'registry_events is append-only');
END;

CREATE TRIGGER registry_events_no_delete BEFORE DELETE ON registry_events
BEGIN
    SELECT RAISE(ABORT, 'registry_events is append-only');
END;

-- Secrets the host generates for itself (the key that signs compiled-artifact cache entries).
CREATE TABLE host_secrets (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);
