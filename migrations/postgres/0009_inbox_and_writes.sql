-- Inbox queries that do not grow with history, and writes without a read of the chain
-- (issue: many hosts, one PostgreSQL; docs/decisions/0022-throughput-and-inbox.md).

-- The hash of the dossier's latest event, beside `last_seq`: the next event is chained
-- to it without reading the events table, under the dossier row's version guard.
ALTER TABLE dossiers ADD COLUMN last_hash TEXT NOT NULL DEFAULT '';
UPDATE dossiers SET last_hash = COALESCE(
    (SELECT hash FROM dossier_events e WHERE e.dossier_code = dossiers.code AND e.seq = dossiers.last_seq), '');

-- Each order the inbox offers is served by an index, so a page is a range read of the
-- index whatever the unit's history: newest first (all, or one status), earliest due
-- first (dossiers without a due date last), and the running dossiers (the overdue and
-- due-soon filters) in either order.
-- (`dossiers_due` and `dossiers_inbox` served only the inbox, and not well: they go.)
DROP INDEX dossiers_inbox;
DROP INDEX dossiers_due;
CREATE INDEX dossiers_inbox_recent ON dossiers (handling_unit, submitted_at, code);
CREATE INDEX dossiers_inbox_status ON dossiers (handling_unit, status, submitted_at, code);
CREATE INDEX dossiers_inbox_due ON dossiers (handling_unit, (COALESCE(due_date, '9999-12-31')), submitted_at, code);
CREATE INDEX dossiers_inbox_status_due ON dossiers (handling_unit, status, (COALESCE(due_date, '9999-12-31')), submitted_at, code);
CREATE INDEX dossiers_inbox_running ON dossiers (handling_unit, due_date, submitted_at, code) WHERE status IN (2, 4);
CREATE INDEX dossiers_inbox_running_recent ON dossiers (handling_unit, submitted_at, code) WHERE status IN (2, 4);

-- How many dossiers each unit handles, by procedure and status: the inbox's totals and
-- the metrics read these few rows instead of counting the unit's history. Written in
-- the same transaction as the dossier; `shard` spreads one hot count over several rows
-- so that concurrent writers on PostgreSQL do not queue on one row lock (SQLite's one
-- writer uses shard 0).
CREATE TABLE dossier_counts (
    handling_unit  TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    status         BIGINT NOT NULL,
    shard          BIGINT NOT NULL,
    n              BIGINT NOT NULL,
    PRIMARY KEY (handling_unit, procedure_code, status, shard)
);
INSERT INTO dossier_counts (handling_unit, procedure_code, status, shard, n)
SELECT handling_unit, procedure_code, status, 0, COUNT(*) FROM dossiers
GROUP BY handling_unit, procedure_code, status;
