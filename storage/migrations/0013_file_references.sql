-- Kept files are deleted when nothing refers to them any more (storage.file_refs): finding
-- whether anything does is one index lookup per table.
CREATE INDEX submission_files_sha256 ON submission_files(sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX rectification_evidence_sha256 ON rectification_evidence(sha256)
    WHERE sha256 IS NOT NULL;
