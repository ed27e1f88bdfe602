-- Council decisions as data, and next year's parameters drafted from this
-- year's (local-taxes.md §1; contract: "Tax parameters, council decisions and
-- the next year").
--
-- tax_parameters: a municipality's value carries the council decision (HCL
-- number and date) that adopted it; NULL for national values and for rows
-- entered before this migration.
ALTER TABLE tax_parameters ADD COLUMN decision_number TEXT;
ALTER TABLE tax_parameters ADD COLUMN decision_date TEXT;

-- parameter_drafts: next year's values of a municipality drafted from a
-- year's by art. 491 (inflation index, euro rate), reviewed line by line and
-- adopted under the new decision. version guards concurrent edits.
CREATE TABLE parameter_drafts (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	from_year INTEGER NOT NULL,
	to_year INTEGER NOT NULL,
	inflation_pct TEXT NOT NULL,
	eur_ron TEXT NOT NULL DEFAULT '',
	decision_number TEXT NOT NULL,
	decision_date TEXT NOT NULL,
	status TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	created_at TIMESTAMP NOT NULL,
	created_by INTEGER REFERENCES users(id),
	adopted_at TIMESTAMP
);
CREATE INDEX parameter_drafts_muni ON parameter_drafts (municipality_id, to_year);

CREATE TABLE parameter_draft_lines (
	draft_id INTEGER NOT NULL REFERENCES parameter_drafts(id),
	param_key TEXT NOT NULL,
	from_value TEXT NOT NULL,
	to_value TEXT NOT NULL,
	rule TEXT NOT NULL,
	legal_basis TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	corrected INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (draft_id, param_key)
);
