-- The tax ledger shared by cases, the annual assessment and payments:
-- parameter overrides and bridge days entered by administrators, the vehicle
-- register, assessments (one per object, tax and year) and the debts they
-- create. Dates are TEXT 'YYYY-MM-DD' on SQLite (DATE on PostgreSQL); money
-- is INTEGER bani.

-- Parameters an administrator entered on top of the embedded defaults
-- (calc/params/data). The same (municipality, key, effective_from) replaces
-- the default. municipality_id NULL = a national value.
CREATE TABLE tax_parameters (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER REFERENCES municipalities(id),
	param_key TEXT NOT NULL,
	effective_from TEXT NOT NULL,
	value TEXT NOT NULL,
	legal_basis TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	created_by INTEGER REFERENCES users(id)
);
CREATE UNIQUE INDEX tax_parameters_key ON tax_parameters (COALESCE(municipality_id, 0), param_key, effective_from);

-- Extra days off (Government bridge days) per municipality.
CREATE TABLE calendar_days (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	day TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (municipality_id, day)
);

-- The fiscal record of vehicles. attributes holds the engine's full object
-- (calc.Object as JSON) so an assessment can be recomputed from it.
CREATE TABLE vehicles (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	vin TEXT NOT NULL,
	plate TEXT NOT NULL DEFAULT '',
	category TEXT NOT NULL,
	engine_cc INTEGER NOT NULL DEFAULT 0,
	emission_class TEXT NOT NULL DEFAULT '',
	propulsion TEXT NOT NULL DEFAULT '',
	attributes TEXT NOT NULL DEFAULT '{}',
	acquired_on TEXT NOT NULL,
	deregistered_on TEXT,
	taxed_from_year INTEGER NOT NULL,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
);
-- One owner of a VIN at a time in the register.
CREATE UNIQUE INDEX vehicles_active_vin ON vehicles (municipality_id, vin) WHERE deregistered_on IS NULL;
CREATE INDEX vehicles_taxpayer ON vehicles (municipality_id, taxpayer_id);

-- One assessment per object, tax type and year (the annual run relies on
-- this key to be idempotent); a recomputation supersedes it with a new
-- revision.
CREATE TABLE assessments (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	tax_type TEXT NOT NULL,
	object_kind TEXT NOT NULL,
	object_id INTEGER NOT NULL,
	year INTEGER NOT NULL,
	revision INTEGER NOT NULL DEFAULT 1,
	annual_bani INTEGER NOT NULL,
	bonus_bani INTEGER NOT NULL DEFAULT 0,
	budget_code TEXT NOT NULL,
	lines TEXT NOT NULL DEFAULT '[]',
	source TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (municipality_id, tax_type, object_kind, object_id, year, revision)
);
CREATE INDEX assessments_taxpayer ON assessments (municipality_id, taxpayer_id, year);

-- What a taxpayer owes: principal instalments, fines and adjustments. What
-- was paid is the sum of allocations (payments); late fees are computed as
-- of a date from the outstanding principal. cancelled_at marks a debt
-- withdrawn (a superseded assessment); nothing is deleted.
CREATE TABLE debts (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
	assessment_id INTEGER REFERENCES assessments(id),
	kind TEXT NOT NULL CHECK (kind IN ('principal', 'fine', 'late_fee', 'adjustment')),
	tax_type TEXT NOT NULL,
	year INTEGER NOT NULL,
	object_id INTEGER,
	installment INTEGER NOT NULL DEFAULT 1,
	due_date TEXT NOT NULL,
	amount_bani INTEGER NOT NULL,
	budget_code TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	cancelled_at TIMESTAMP,
	version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX debts_taxpayer ON debts (municipality_id, taxpayer_id, due_date);
CREATE INDEX debts_assessment ON debts (assessment_id);
