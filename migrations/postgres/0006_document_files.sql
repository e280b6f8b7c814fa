-- The files of dossiers (docs/decisions/0018-documents.md). A component is digitized
-- once the host has stored its file, whose content type was recognised from its bytes;
-- a flag a client sent before this version is not a file, so it is cleared.
ALTER TABLE dossier_documents ADD COLUMN content_type TEXT;
ALTER TABLE dossier_documents ADD COLUMN stored_at TEXT;
UPDATE dossier_documents SET digitized = 0;
CREATE INDEX dossier_documents_by_sha256 ON dossier_documents (sha256);
