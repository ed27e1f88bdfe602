-- Taking over a municipality's existing data (issue 20): the import runs
-- with their checkpoint and counts, the rejected rows of each run (the
-- error report), and the external ids of the old system mapped to our
-- records. import_keys is the external_id of every imported kind in one
-- table, unique per municipality and kind: taxpayers, vehicles and balances
-- (key owner|tax|year|instalment|object) today; buildings and lands add
-- rows of their kind and no column.
CREATE TABLE imports (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	kind TEXT NOT NULL,
	file_name TEXT NOT NULL,
	file_sha256 TEXT NOT NULL,
	dry_run INTEGER NOT NULL DEFAULT 0,
	checkpoint_line INTEGER NOT NULL DEFAULT 1,
	batches INTEGER NOT NULL DEFAULT 0,
	rows_total INTEGER NOT NULL DEFAULT 0,
	imported INTEGER NOT NULL DEFAULT 0,
	updated INTEGER NOT NULL DEFAULT 0,
	unchanged INTEGER NOT NULL DEFAULT 0,
	rejected INTEGER NOT NULL DEFAULT 0,
	started_by INTEGER,
	started_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	finished_at TIMESTAMP
);
CREATE INDEX imports_resume ON imports (municipality_id, kind, file_sha256);

CREATE TABLE import_errors (
	id INTEGER PRIMARY KEY,
	import_id INTEGER NOT NULL REFERENCES imports(id),
	line INTEGER NOT NULL,
	field TEXT NOT NULL,
	message TEXT NOT NULL
);
CREATE INDEX import_errors_import ON import_errors (import_id, line);

-- No foreign keys here: the keys are written by the million in bulk (the
-- checks cost a quarter of a PostgreSQL import), entity_id names a row of
-- the kind's table (taxpayers, vehicles, debts), and only the store's import
-- writes municipality_id and import_id, from the run it is writing.
CREATE TABLE import_keys (
	municipality_id INTEGER NOT NULL,
	kind TEXT NOT NULL,
	external_id TEXT NOT NULL,
	entity_id INTEGER NOT NULL,
	row_hash TEXT NOT NULL,
	import_id INTEGER NOT NULL,
	PRIMARY KEY (municipality_id, kind, external_id)
);
