-- The processing report and the national indicators read, for every dossier of a
-- period, the columns below; this index holds them all, in (handling unit, procedure)
-- order, so a province-wide report is one pass over it that sums each group as it
-- goes, without reading the wide dossier rows or sorting.
CREATE INDEX dossiers_report ON dossiers (
    handling_unit, procedure_code, submitted_at, updated_at, closed_at, status, channel,
    statutory_due_date, supplement_count, settled_at, processing_seconds,
    fees_requested_vnd, paid_online, digitized, rating, code
);

-- A past period reads the dossiers changed after its end from their change history;
-- this index finds them (changed after T, filed at or before T, not closed before the
-- period) without reading the dossier rows.
CREATE INDEX dossiers_changed ON dossiers (updated_at, submitted_at, closed_at, code);
