-- Case intake looks up a document the taxpayer gave before by its SHA-256
-- and takes the first attachment that has it (ORDER BY id LIMIT 1). With id
-- in the index the look-up walks the matching entries in id order and stops
-- at the first of the taxpayer's, instead of reading and sorting every
-- attachment with that SHA-256 (one per case that referenced the document).
DROP INDEX case_attachments_sha;
CREATE INDEX case_attachments_sha ON case_attachments (municipality_id, sha256, id);
