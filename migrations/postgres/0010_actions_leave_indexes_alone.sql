-- An action that changes none of the columns the inbox and the reports are indexed by
-- (a payment after the first, a step inside one status) now writes no index entry of
-- `dossiers` (docs/decisions/0029-report-indexes-without-updated-at.md).
--
-- `updated_at` changes with every action, and two indexes held it: the report's
-- covering index and `dossiers_changed`. Which dossiers changed after a moment T is
-- now read from their change history (`dossier_changes_by_at`): every write of a
-- dossier row writes its `dossier_changes` row, at the same time, in the same
-- transaction. Each change row carries its dossier's filing time, so the index leaves
-- out the changes of dossiers filed after T without reading them.
DROP INDEX dossiers_changed;
DROP INDEX dossiers_report;
CREATE INDEX dossiers_report ON dossiers (
    handling_unit, procedure_code, submitted_at, closed_at, status, channel,
    statutory_due_date, supplement_count, settled_at, processing_seconds,
    fees_requested_vnd, paid_online, digitized, rating, code
);
ALTER TABLE dossier_changes ADD COLUMN submitted_at TEXT NOT NULL DEFAULT '';
-- The change history is append-only (migration 0003); its guard steps aside, inside
-- this migration's transaction, for the new column's one fill.
ALTER TABLE dossier_changes DISABLE TRIGGER dossier_changes_no_change;
UPDATE dossier_changes c SET submitted_at = d.submitted_at FROM dossiers d WHERE d.code = c.dossier_code;
ALTER TABLE dossier_changes ENABLE TRIGGER dossier_changes_no_change;
CREATE INDEX dossier_changes_by_at ON dossier_changes (at, submitted_at, dossier_code);

-- A HOT update (no index entry written) needs room for the new row version on the
-- row's own page: leave half of each new page of dossiers free for it.
ALTER TABLE dossiers SET (fillfactor = 50);
