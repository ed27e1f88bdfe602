-- Taking over a municipality's existing data (issue 20): the import runs
-- with their checkpoint and counts, the rejected rows of each run (the
-- error report), and the external ids of the old system mapped to our
-- records. import_keys is the external_id of every imported kind in one
-- table, unique per municipality and kind: taxpayers, vehicles and balances
-- (key owner|tax|year|instalment|object) today; buildings and lands add
-- rows of their kind and no column.
CREATE TABLE imports (
	id BIGSERIAL PRIMARY KEY,
	municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
	kind TEXT NOT NULL,
	file_name TEXT NOT NULL,
	file_sha256 TEXT NOT NULL,
	dry_run BOOLEAN NOT NULL DEFAULT FALSE,
	checkpoint_line BIGINT NOT NULL DEFAULT 1,
	batches BIGINT NOT NULL DEFAULT 0,
	rows_total BIGINT NOT NULL DEFAULT 0,
	imported BIGINT NOT NULL DEFAULT 0,
	updated BIGINT NOT NULL DEFAULT 0,
	unchanged BIGINT NOT NULL DEFAULT 0,
	rejected BIGINT NOT NULL DEFAULT 0,
	started_by BIGINT,
	started_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	finished_at TIMESTAMPTZ
);
CREATE INDEX imports_resume ON imports (municipality_id, kind, file_sha256);

CREATE TABLE import_errors (
	id BIGSERIAL PRIMARY KEY,
	import_id BIGINT NOT NULL REFERENCES imports(id),
	line BIGINT NOT NULL,
	field TEXT NOT NULL,
	message TEXT NOT NULL
);
CREATE INDEX import_errors_import ON import_errors (import_id, line);

-- No foreign keys here: the keys are written by the million in bulk (the
-- checks cost a quarter of a PostgreSQL import), entity_id names a row of
-- the kind's table (taxpayers, vehicles, debts), and only the store's import
-- writes municipality_id and import_id, from the run it is writing.
CREATE TABLE import_keys (
	municipality_id BIGINT NOT NULL,
	kind TEXT NOT NULL,
	external_id TEXT NOT NULL,
	entity_id BIGINT NOT NULL,
	row_hash TEXT NOT NULL,
	import_id BIGINT NOT NULL,
	PRIMARY KEY (municipality_id, kind, external_id)
);
