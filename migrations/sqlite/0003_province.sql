-- Running a real province: units as managed data, accounts that expire or are revoked,
-- the holiday calendar in the database, deadline keeping, and the facts the processing
-- report, the national indicators and the sync feed are computed from.

-- Units: what kind each one is (province, department, ward, commune).
ALTER TABLE units ADD COLUMN kind TEXT NOT NULL DEFAULT 'commune';
UPDATE units SET kind = 'province' WHERE parent IS NULL;

-- Accounts: an optional expiry, and revocation.
ALTER TABLE actors ADD COLUMN expires_at TEXT;
ALTER TABLE actors ADD COLUMN revoked_at TEXT;

-- The working-day calendar: one row per exception day (a weekday off or a weekend
-- day worked), and one row per loaded year with the fingerprint of its table.
CREATE TABLE calendar_days (
    day     TEXT PRIMARY KEY,
    year    BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL
);
CREATE INDEX calendar_days_by_year ON calendar_days (year);

CREATE TABLE calendar_years (
    year        BIGINT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    loaded_at   TEXT NOT NULL,
    loaded_by   TEXT NOT NULL
);

-- Deadline keeping on the dossier.
--   settings_json       the unit's settings for the procedure, pinned at filing with the build
--   statutory_due_date  the due date the host computed (working days), before any apology
--   due_provisional     1 when a year the due date spans had no holiday table
--   clock_base_day      the working day the current count started from
--   clock_days          how many working days were counted from it
--   paused_days_left    working days left when the clock stopped for the applicant's
--                       financial obligation (status 6)
--   waiting_since       when the dossier started waiting for the applicant (status 5 or 6)
--   waited_seconds      time spent waiting for a supplement or a payment, in total
--   closed_at           when the dossier reached a final status (3, 7, 8, 9 or 10)
--   processing_seconds  settled_at - received_at - waited_seconds, once settled
--   digitized           every component (at least one) digitized, and the result once settled
--   rating              the citizen's rating of a returned dossier
--   last_seq            the sequence number of the dossier's latest event
ALTER TABLE dossiers ADD COLUMN settings_json TEXT;
ALTER TABLE dossiers ADD COLUMN statutory_due_date TEXT;
ALTER TABLE dossiers ADD COLUMN due_provisional BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN clock_base_day TEXT;
ALTER TABLE dossiers ADD COLUMN clock_days BIGINT;
ALTER TABLE dossiers ADD COLUMN paused_days_left BIGINT;
ALTER TABLE dossiers ADD COLUMN waiting_since TEXT;
ALTER TABLE dossiers ADD COLUMN waited_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN closed_at TEXT;
ALTER TABLE dossiers ADD COLUMN processing_seconds BIGINT;
ALTER TABLE dossiers ADD COLUMN digitized BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN rating TEXT;
ALTER TABLE dossiers ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 1;
-- Dossiers filed before this migration: their facts as far as the row tells them.
UPDATE dossiers SET statutory_due_date = due_date;
UPDATE dossiers SET last_seq = (SELECT MAX(seq) FROM dossier_events WHERE dossier_code = dossiers.code)
    WHERE EXISTS (SELECT 1 FROM dossier_events WHERE dossier_code = dossiers.code);
UPDATE dossiers SET closed_at = COALESCE(settled_at, updated_at) WHERE status IN (3, 7, 8, 9, 10);
UPDATE dossiers SET digitized = 1
    WHERE EXISTS (SELECT 1 FROM dossier_documents WHERE dossier_code = dossiers.code)
      AND NOT EXISTS (SELECT 1 FROM dossier_documents WHERE dossier_code = dossiers.code AND digitized = 0)
      AND (status NOT IN (9, 10) OR result_json LIKE '%"digitized":true%');
CREATE INDEX dossiers_due ON dossiers (handling_unit, due_date);
CREATE INDEX dossiers_waiting ON dossiers (status, waiting_since);
CREATE INDEX dossiers_by_submission ON dossiers (submitted_at);

-- One row per dossier event, written in the event's transaction: the reportable facts
-- of the dossier as that event left them. Reports of a past period read, for each
-- dossier, the latest row at or before the period's end; the sync feed reads the rows
-- that changed the status, in commit order (`id`; SQLite has one writer at a time).
CREATE TABLE dossier_changes (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tx                  BIGINT NOT NULL DEFAULT 0,
    dossier_code        TEXT NOT NULL REFERENCES dossiers(code),
    seq                 BIGINT NOT NULL,
    at                  TEXT NOT NULL,
    handling_unit       TEXT NOT NULL,
    agency_id           TEXT NOT NULL,
    procedure_code      TEXT NOT NULL,
    channel             TEXT NOT NULL,
    from_status         BIGINT,
    to_status           BIGINT NOT NULL,
    status_changed      BIGINT NOT NULL,
    statutory_due_date  TEXT,
    due_date            TEXT,
    supplement_count    BIGINT NOT NULL,
    settled_at          TEXT,
    closed_at           TEXT,
    processing_seconds  BIGINT,
    fees_requested_vnd  BIGINT NOT NULL,
    paid_online         BIGINT NOT NULL,
    digitized           BIGINT NOT NULL,
    rating              TEXT,
    UNIQUE (dossier_code, seq)
);
CREATE INDEX dossier_changes_feed ON dossier_changes (status_changed, tx, id);

-- The status changes of dossiers filed before this migration, so the sync feed misses
-- none; the facts they did not record are left empty.
INSERT INTO dossier_changes (dossier_code, seq, at, handling_unit, agency_id, procedure_code, channel,
    from_status, to_status, status_changed, supplement_count, fees_requested_vnd, paid_online, digitized)
SELECT e.dossier_code, e.seq, e.at, d.handling_unit, u.agency_id, d.procedure_code, d.channel,
       e.from_status, e.to_status,
       CASE WHEN e.from_status IS NULL OR e.from_status <> e.to_status THEN 1 ELSE 0 END,
       0, 0, 0, 0
FROM dossier_events e
JOIN dossiers d ON d.code = e.dossier_code
JOIN units u ON u.code = d.handling_unit
ORDER BY e.id;

CREATE TRIGGER dossier_changes_no_update BEFORE UPDATE ON dossier_changes
BEGIN
    SELECT RAISE(ABORT, 'dossier_changes is append-only');
END;

CREATE TRIGGER dossier_changes_no_delete BEFORE DELETE ON dossier_changes
BEGIN
    SELECT RAISE(ABORT, 'dossier_changes is append-only');
END;

-- The scoring table of the national indicators (Decision 766/QĐ-TTg groups): each
-- indicator scores its full points at or above its target, else in proportion.
CREATE TABLE indicator_targets (
    indicator       TEXT PRIMARY KEY,
    indicator_group TEXT NOT NULL,
    target_percent  BIGINT NOT NULL,
    points          BIGINT NOT NULL
);
INSERT INTO indicator_targets (indicator, indicator_group, target_percent, points) VALUES
    ('on_time', 'Tiến độ giải quyết', 95, 20),
    ('online', 'Dịch vụ công trực tuyến', 80, 12),
    ('online_payment', 'Dịch vụ công trực tuyến', 50, 10),
    ('digitization', 'Số hóa hồ sơ', 100, 22),
    ('satisfaction', 'Mức độ hài lòng', 95, 18);
