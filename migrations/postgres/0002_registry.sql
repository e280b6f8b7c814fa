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
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    action          TEXT NOT NULL,
    procedure_code  TEXT,
    unit            TEXT,
    before_json     TEXT NOT NULL,
    after_json      TEXT NOT NULL
);

CREATE FUNCTION registry_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'registry_events is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER registry_events_no_change BEFORE UPDATE OR DELETE ON registry_events
FOR EACH ROW EXECUTE FUNCTION registry_events_append_only();

-- Secrets the host generates for itself (the key that signs compiled-artifact cache entries).
CREATE TABLE host_secrets (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);
