-- The core loop: units, plugin builds, bindings, actors, dossiers and their audit trail.
-- Times are RFC 3339 text in the province's civil time (+07:00); dates are YYYY-MM-DD.

CREATE TABLE units (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    parent      TEXT REFERENCES units(code),
    agency_id   TEXT NOT NULL UNIQUE,
    cutoff      TEXT NOT NULL DEFAULT '15:00'
);

CREATE TABLE plugin_builds (
    sha256          TEXT PRIMARY KEY,
    procedure_code  TEXT NOT NULL,
    version         TEXT NOT NULL,
    wit_version     TEXT NOT NULL,
    size            BIGINT NOT NULL,
    bytes           BYTEA NOT NULL,
    info_json       TEXT NOT NULL,
    published_by    TEXT NOT NULL,
    published_at    TEXT NOT NULL,
    UNIQUE (procedure_code, version)
);

CREATE TABLE bindings (
    unit            TEXT NOT NULL REFERENCES units(code),
    procedure_code  TEXT NOT NULL,
    build_sha256    TEXT NOT NULL REFERENCES plugin_builds(sha256),
    settings_json   TEXT NOT NULL DEFAULT '{}',
    enabled         BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (unit, procedure_code)
);

CREATE TABLE actors (
    id          TEXT PRIMARY KEY,
    unit        TEXT NOT NULL REFERENCES units(code),
    role        TEXT NOT NULL,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE dossiers (
    code                 TEXT PRIMARY KEY,
    procedure_code       TEXT NOT NULL,
    build_sha256         TEXT NOT NULL REFERENCES plugin_builds(sha256),
    receiving_unit       TEXT NOT NULL REFERENCES units(code),
    handling_unit        TEXT NOT NULL REFERENCES units(code),
    channel              TEXT NOT NULL,
    applicant_json       TEXT NOT NULL,
    form_json            TEXT NOT NULL,
    step                 TEXT NOT NULL,
    status               BIGINT NOT NULL,
    submitted_at         TEXT NOT NULL,
    received_at          TEXT,
    clock_started_at     TEXT,
    due_date             TEXT,
    supplement_count     BIGINT NOT NULL DEFAULT 0,
    extension_count      BIGINT NOT NULL DEFAULT 0,
    fees_requested_vnd   BIGINT NOT NULL DEFAULT 0,
    fees_paid_vnd        BIGINT NOT NULL DEFAULT 0,
    paid_online          BIGINT NOT NULL DEFAULT 0,
    result_json          TEXT,
    settled_at           TEXT,
    returned_at          TEXT,
    tracking_secret_hash TEXT NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1,
    updated_at           TEXT NOT NULL
);
CREATE INDEX dossiers_inbox ON dossiers (handling_unit, status, submitted_at);

CREATE TABLE dossier_documents (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_code TEXT NOT NULL REFERENCES dossiers(code),
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    digitized    BIGINT NOT NULL,
    added_at     TEXT NOT NULL
);
CREATE INDEX dossier_documents_by_dossier ON dossier_documents (dossier_code, id);

-- Daily dossier-code sequence per unit: <agency e-ID>-<YYMMDD>-<sequence>.
CREATE TABLE dossier_sequences (
    unit  TEXT NOT NULL,
    day   TEXT NOT NULL,
    last  BIGINT NOT NULL,
    PRIMARY KEY (unit, day)
);

-- Append-only, hash-chained per dossier.
CREATE TABLE dossier_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_code TEXT NOT NULL REFERENCES dossiers(code),
    seq          BIGINT NOT NULL,
    at           TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    actor_unit   TEXT NOT NULL,
    action       TEXT NOT NULL,
    from_step    TEXT,
    to_step      TEXT NOT NULL,
    from_status  BIGINT,
    to_status    BIGINT NOT NULL,
    note         TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    UNIQUE (dossier_code, seq)
);

CREATE FUNCTION dossier_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'dossier_events is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER dossier_events_no_change BEFORE UPDATE OR DELETE ON dossier_events
FOR EACH ROW EXECUTE FUNCTION dossier_events_append_only();
