-- durability_marks: one row per PostgreSQL backend (its pid), updated by the
-- durability barrier (internal/store/commit.go). A transaction that only
-- takes a transaction id writes no WAL before its commit record, and
-- PostgreSQL then commits it asynchronously whatever synchronous_commit
-- says (RecordTransactionCommit: no WAL written, no flush), so
-- `SELECT txid_current()` was no barrier. Updating a row writes WAL, so the
-- barrier's synchronous commit flushes the WAL up to its own commit record,
-- past every earlier asynchronous commit. One row per backend: barriers
-- never wait for each other.
CREATE TABLE durability_marks (
	pid INTEGER PRIMARY KEY,
	n BIGINT NOT NULL
);
