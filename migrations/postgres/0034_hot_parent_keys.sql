-- The tables every request writes no longer check their references to
-- municipalities and users with a foreign key; the signatures are compressed
-- with lz4.
--
-- A foreign key check locks the parent row FOR KEY SHARE. Every intake,
-- decision and notification of a municipality references the same
-- municipalities row and, for an officer's requests, the same users row:
-- concurrent transactions then share those locks through a MultiXact that
-- PostgreSQL rewrites (a new one, with every member, and a WAL record on the
-- parent row) at each check. With ~18 checks an intake, 6 of them on the
-- municipality, this was 12% of PostgreSQL's CPU per intake (perf: the RI
-- triggers' SPI queries; BENCHMARKS.md, "hot parent rows"). The references
-- stay correct without the check: municipality_id is always the signed-in
-- actor's municipality and the user ids its user (fiscal.Actor, built from
-- rows read from the database) or ids checked against existing rows of the
-- municipality before they are written (an assignment's officer, a
-- substitution's absent person, a taxpayer's account), and no municipality
-- or user row is ever deleted (a user is disabled; GDPR erasure rewrites a taxpayer's data,
-- not users' ids). The references to the case, the taxpayer and the signing
-- key, which requests do take from input, keep their foreign keys, as do
-- all the other tables. SQLite's checks take no lock and stay (0034 there
-- is a no-op).
DO $$
DECLARE r record;
BEGIN
	FOR r IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
		WHERE contype = 'f' AND confrelid IN ('municipalities'::regclass, 'users'::regclass)
		AND conrelid IN ('cases'::regclass, 'case_attachments'::regclass, 'case_events'::regclass, 'case_steps'::regclass,
			'case_counters'::regclass, 'idempotency_keys'::regclass, 'notifications'::regclass, 'audit_log'::regclass)
	LOOP
		EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
	END LOOP;
END $$;

-- A step's CAdES signature (~6 KB of base64, mostly certificates) is
-- toasted and compressed at each insert and again when its timestamp is
-- added: pglz was 5% of PostgreSQL's CPU per intake, lz4 costs a fraction of
-- it for the same size. A server built without lz4 keeps pglz.
DO $$
BEGIN
	ALTER TABLE case_steps ALTER COLUMN cms SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
	RAISE NOTICE 'lz4 is not available: case_steps.cms stays compressed with pglz';
END $$;
