-- The files of dossiers (docs/decisions/0018-documents.md). A component is digitized
-- once the host has stored its file, whose content type was recognised from its bytes;
-- a flag a client sent before this version is not a file, so it is cleared.
ALTER TABLE dossier_documents ADD COLUMN content_type TEXT;
ALTER TABLE dossier_documents ADD COLUMN stored_at TEXT;
-- Content addresses are lowercase hex (uploads name them so).
UPDATE dossier_documents SET digitized = 0, sha256 = lower(sha256);
-- The same for a result's flag and the dossier's own; facts already recorded in the audit
-- trail (dossier_changes) stay as they were written.
UPDATE dossiers SET result_json = jsonb_set(result_json::jsonb, '{digitized}', 'false'::jsonb)::text WHERE result_json IS NOT NULL;
UPDATE dossiers SET digitized = 0;
CREATE INDEX dossier_documents_by_sha256 ON dossier_documents (sha256);
