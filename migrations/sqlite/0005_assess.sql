-- The annual assessment run (fiscald assess) and the building register.
--
-- assessment_runs: one row per municipality, tax year and phase (the object
-- kind assessed). Each batch commits its rows together with the run's cursor
-- (the last taxpayer id fully assessed), so a run killed at any moment
-- resumes after the last committed batch.
CREATE TABLE assessment_runs (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	year INTEGER NOT NULL,
	phase TEXT NOT NULL,
	cursor_taxpayer_id INTEGER NOT NULL DEFAULT 0,
	batches INTEGER NOT NULL DEFAULT 0,
	assessments INTEGER NOT NULL DEFAULT 0,
	debts INTEGER NOT NULL DEFAULT 0,
	started_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	finished_at TIMESTAMP,
	UNIQUE (municipality_id, year, phase)
);

-- The fiscal record of buildings. attributes holds the engine's object
-- (calc.Object with kind "building", as JSON). The owner on 31 December of
-- year N-1 owes the tax of year N (art. 456); disposed_on ends ownership.
CREATE TABLE buildings (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	address TEXT NOT NULL DEFAULT '',
	attributes TEXT NOT NULL DEFAULT '{}',
	acquired_on TEXT NOT NULL,
	disposed_on TEXT,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX buildings_taxpayer ON buildings (municipality_id, taxpayer_id);
