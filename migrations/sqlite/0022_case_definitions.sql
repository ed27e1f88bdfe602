-- Request types as data (fiscal/casedef.go, internal/store/casedefs.go): a
-- municipality's published definitions, one row per version of a type, the
-- body as the checked JSON. A case of a published type records the version
-- it runs on (definition_version; NULL for the built-in types); each act on
-- it is a signed case step with the step's full name (step) and, when a
-- substitute took it on behalf of the absent person, that person
-- (on_behalf_of_id / on_behalf_of).
CREATE TABLE case_definitions (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	type TEXT NOT NULL,
	version INTEGER NOT NULL,
	body TEXT NOT NULL,
	published_at TIMESTAMP NOT NULL,
	published_by INTEGER REFERENCES users(id),
	UNIQUE (municipality_id, type, version)
);

ALTER TABLE cases ADD COLUMN definition_version INTEGER;
-- The top-level step a published type's case waits at and the day it
-- opened (NULL: the first step, opened on submitted_on), kept by each act,
-- so the escalation sweep selects the cases due in SQL.
ALTER TABLE cases ADD COLUMN route_step TEXT;
ALTER TABLE cases ADD COLUMN route_step_since TEXT;
CREATE INDEX cases_route ON cases (municipality_id, type, definition_version, status) WHERE definition_version IS NOT NULL;
ALTER TABLE case_steps ADD COLUMN step TEXT NOT NULL DEFAULT '';
ALTER TABLE case_steps ADD COLUMN on_behalf_of_id INTEGER REFERENCES users(id);
ALTER TABLE case_steps ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT '';

-- Substitutions: while [from_on, to_on] runs, substitute_id may take the
-- steps of user_id (of case_type, or of every type when it is ''), in their
-- own name (delegate) or recorded as acting for them (on_behalf).
CREATE TABLE substitutions (
	id INTEGER PRIMARY KEY,
	municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
	user_id INTEGER NOT NULL REFERENCES users(id),
	substitute_id INTEGER NOT NULL REFERENCES users(id),
	from_on TEXT NOT NULL,
	to_on TEXT NOT NULL,
	mode TEXT NOT NULL CHECK (mode IN ('delegate', 'on_behalf')),
	case_type TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	created_by INTEGER REFERENCES users(id)
);
CREATE INDEX substitutions_substitute ON substitutions (municipality_id, substitute_id, to_on);

-- The escalations done: one row per case, step, day the step opened and
-- escalation of the definition (warnings before a deemed decision are
-- escalation + 1000). The sweep claims them with INSERT ... ON CONFLICT DO
-- NOTHING, so each runs once whatever the number of instances sweeping;
-- run names the sweep that claimed it. No foreign keys: the rows are
-- written by the hundred thousand from cases just read (cases are never
-- deleted), and the checks doubled the sweep's time on PostgreSQL.
CREATE TABLE case_escalations (
	municipality_id INTEGER NOT NULL,
	case_id INTEGER NOT NULL,
	step TEXT NOT NULL,
	since TEXT NOT NULL,
	escalation INTEGER NOT NULL,
	action TEXT NOT NULL,
	run TEXT NOT NULL,
	at TIMESTAMP NOT NULL,
	PRIMARY KEY (case_id, step, since, escalation)
);
CREATE INDEX case_escalations_run ON case_escalations (run);
